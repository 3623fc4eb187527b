import { PassThroughClient } from 'google-auth-library';
import { PermanentError } from './errors.js';

/**
 * The google-gax options that choose where a Google Cloud client sends its
 * REST calls (a type, not an interface, so that it fits gax's indexed ClientOptions).
 */
export type RestClientOptions = {
  fallback: true;
  apiEndpoint?: string;
  port?: number;
  protocol?: 'http';
  authClient?: PassThroughClient;
};

/**
 * Options for a Google Cloud client over google-gax's REST transport
 * (fallback.ts, fallbackRest.ts). No endpoint: the real API with
 * Application Default Credentials.
 *
 * An `http://host:port` endpoint is a local stand-in. The transport builds
 * URLs as `${protocol}://${apiEndpoint}:${port}/<path>`, so `apiEndpoint`
 * is the host alone and `port` the port; `fallback: true` selects HTTP/1.1
 * + JSON instead of gRPC, which a plain HTTP stand-in cannot speak;
 * `protocol: 'http'` replaces the default 'https'; and `authClient`, a
 * PassThroughClient, sends no Authorization header, where the default
 * GoogleAuth would first look for credentials that do not exist here.
 * Credentials are never sent over plain HTTP.
 *
 * `api` names the API in errors; `clientPath` is the path the client adds.
 */
export function restClientOptions(
  endpoint: string | undefined,
  api: string,
  clientPath: string,
): RestClientOptions {
  if (endpoint === undefined || endpoint === '') return { fallback: true };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new PermanentError(`${api} endpoint "${endpoint}" is not a URL`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new PermanentError(
      `${api} endpoint "${endpoint}" must have no path (the client adds ${clientPath})`,
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
  throw new PermanentError(`${api} endpoint "${endpoint}" must be http:// or https://`);
}
