import type { ClusterManagerClient } from '@google-cloud/container';
import { PassThroughClient } from 'google-auth-library';
import { PermanentError } from '../errors.js';

/** What the `@google-cloud/container` v1 ClusterManagerClient constructor accepts (google-gax ClientOptions). */
export type ContainerClientOptions = NonNullable<
  ConstructorParameters<typeof ClusterManagerClient>[0]
>;

/**
 * Client options for a GKE Container API endpoint (the `containerEndpoint`
 * setting, LIFEBOAT_CONTAINER_ENDPOINT). No endpoint: the real API over
 * REST with Application Default Credentials.
 *
 * Same approach as computeClientOptions (shared/disks), because the
 * transport is the same google-gax REST fallback (fallback.ts,
 * fallbackRest.ts): `fallback: true` selects HTTP/1.1 + JSON instead of
 * gRPC (the container client defaults to gRPC, which a plain HTTP stand-in
 * cannot speak); the transport builds the URL as
 * `${protocol}://${apiEndpoint}:${port}/v1/projects/...`, so `apiEndpoint`
 * is the host alone and `port` the port; `protocol: 'http'` replaces the
 * default 'https'; and `authClient`, a google-auth-library
 * PassThroughClient, sends requests with no Authorization header, where
 * the default GoogleAuth would first look for credentials that do not exist
 * here. Credentials are never sent over plain HTTP.
 */
export function containerClientOptions(endpoint?: string): ContainerClientOptions {
  if (endpoint === undefined || endpoint === '') return { fallback: true };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new PermanentError(`Container API endpoint "${endpoint}" is not a URL`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new PermanentError(
      `Container API endpoint "${endpoint}" must have no path (the client adds /v1/projects/...)`,
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
  throw new PermanentError(`Container API endpoint "${endpoint}" must be http:// or https://`);
}
