import type { DisksClient } from '@google-cloud/compute';
import { PassThroughClient } from 'google-auth-library';
import { PermanentError } from '../errors.js';

/** What every `@google-cloud/compute` v1 client constructor accepts (google-gax ClientOptions). */
export type ComputeClientOptions = NonNullable<ConstructorParameters<typeof DisksClient>[0]>;

/**
 * Client options for a Compute Engine endpoint (the `computeEndpoint`
 * setting, LIFEBOAT_COMPUTE_ENDPOINT). No endpoint: the real API with
 * Application Default Credentials.
 *
 * An `http://host:port` endpoint is a local stand-in. Reaching it takes four
 * options, found by reading google-gax's REST transport (fallback.ts,
 * fallbackRest.ts): `fallback: true` selects HTTP/1.1 + JSON (the compute
 * clients default to it anyway, but an explicit value survives a change of
 * default); `apiEndpoint` and `port` make the URL, which the transport
 * builds as `${protocol}://${apiEndpoint}:${port}/compute/v1/...`;
 * `protocol: 'http'` replaces its default 'https'; and `authClient`, a
 * google-auth-library PassThroughClient, sends requests with no
 * Authorization header, where the default GoogleAuth would first look for
 * credentials that do not exist here. Credentials are never sent over plain
 * HTTP.
 */
export function computeClientOptions(endpoint?: string): ComputeClientOptions {
  if (endpoint === undefined || endpoint === '') return { fallback: true };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new PermanentError(`Compute endpoint "${endpoint}" is not a URL`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new PermanentError(
      `Compute endpoint "${endpoint}" must have no path (the client adds /compute/v1)`,
    );
  }
  if (url.protocol === 'https:') {
    return { fallback: true, apiEndpoint: url.hostname, port: Number(url.port || 443) };
  }
  if (url.protocol === 'http:') {
    return {
      fallback: true,
      apiEndpoint: url.hostname,
      port: Number(url.port || 80),
      protocol: 'http',
      authClient: new PassThroughClient(),
    };
  }
  throw new PermanentError(`Compute endpoint "${endpoint}" must be http:// or https://`);
}
