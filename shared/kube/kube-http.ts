import { Agent, request, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { LifeboatError, PermanentError } from '../errors.js';
import { retry } from '../time/retry.js';

/** A Kubernetes API error with its HTTP status and the server's Status reason. */
export class KubeApiError extends LifeboatError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    retryable = status === 429 || status >= 500 || status === 0,
  ) {
    super(message, { retryable });
  }
}

export interface KubeRequest {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  contentType?: string;
  /** Refuse (and stop reading) a response body larger than this, with a ResponseTooLargeError. */
  maxBytes?: number;
  /** Told the size of the response body, before it is parsed. */
  onBytes?: (bytes: number) => void;
}

/** A response passed its request's `maxBytes`: it was abandoned, not buffered. */
export class ResponseTooLargeError extends KubeApiError {
  constructor(
    readonly limit: number,
    message: string,
  ) {
    // Not retryable as it is: the caller asks for less.
    super(0, 'ResponseTooLarge', message, false);
  }
}

const RETRIES = 6;

/**
 * Raw JSON requests to one API server, authenticated by a KubeConfig
 * (@kubernetes/client-node does the credentials and TLS). We speak HTTP
 * directly for the generic paths (discovery, LIST of any resource, create
 * and replace of any object) because the typed clients deserialise every
 * object into model classes, which costs more than the LIST itself on large
 * clusters. 429 and 5xx are retried with backoff.
 */
export class KubeHttp {
  private readonly agent: Agent;
  private options: Promise<RequestOptions> | undefined;
  readonly server: string;
  /** Requests sent, by method: lets a dry run prove it wrote nothing. */
  readonly requestCounts: Record<string, number> = {};

  constructor(
    private readonly kubeConfig: KubeConfig,
    maxSockets = 32,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster)
      throw new LifeboatError('kubeconfig has no current cluster', { retryable: false });
    this.server = cluster.server.replace(/\/$/, '');
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  private baseOptions(): Promise<RequestOptions> {
    this.options ??= (async () => {
      const opts: RequestOptions = { headers: {} };
      await this.kubeConfig.applyToHTTPSOptions(opts);
      return opts;
    })();
    return this.options;
  }

  async request<T>(method: string, path: string, req: KubeRequest = {}): Promise<T> {
    return retry(() => this.once<T>(method, path, req), {
      attempts: RETRIES,
      // 200 ms doubling to 5 s, jittered so that parallel requests do not retry in step.
      delayMs: (n) => Math.min(100 * 2 ** n, 5000) * (0.5 + Math.random()),
      retryable: (error) => (error instanceof KubeApiError ? error.retryable : true),
    });
  }

  private async once<T>(method: string, path: string, req: KubeRequest): Promise<T> {
    this.requestCounts[method] = (this.requestCounts[method] ?? 0) + 1;
    const base = await this.baseOptions();
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = {
      ...(base.headers as Record<string, string>),
      accept: 'application/json',
    };
    if (payload) {
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const send = url.protocol === 'http:' ? httpRequest : request;
    return new Promise<T>((resolve, reject) => {
      const r = send(
        url,
        { ...base, method, headers, agent: url.protocol === 'http:' ? undefined : this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          let received = 0;
          res.on('data', (c: Buffer) => {
            received += c.length;
            if (req.maxBytes !== undefined && received > req.maxBytes) {
              chunks.length = 0;
              reject(
                new ResponseTooLargeError(
                  req.maxBytes,
                  `${method} ${path}: response larger than ${req.maxBytes} bytes, abandoned`,
                ),
              );
              r.destroy();
              return;
            }
            chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            req.onBytes?.(received);
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              try {
                resolve((text ? JSON.parse(text) : {}) as T);
              } catch (error) {
                reject(
                  new KubeApiError(
                    0,
                    'BadResponse',
                    `${method} ${path}: unparseable response (${String(error)})`,
                  ),
                );
              }
              return;
            }
            let reason = 'Unknown';
            let message = text.slice(0, 500);
            try {
              const s = JSON.parse(text) as { reason?: string; message?: string };
              reason = s.reason ?? reason;
              message = s.message ?? message;
            } catch {
              // not a Status object
            }
            reject(
              new KubeApiError(
                status,
                reason,
                `${method} ${path}: ${status} ${reason}: ${message}`,
              ),
            );
          });
        },
      );
      r.on('error', (error) =>
        reject(new KubeApiError(0, 'NetworkError', `${method} ${path}: ${error.message}`)),
      );
      r.setTimeout(60_000, () => r.destroy(new Error('timed out after 60s')));
      if (payload) r.write(payload);
      r.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A GET of `path`; undefined when the API server answers 404. */
export async function getOrUndefined<T>(http: KubeHttp, path: string): Promise<T | undefined> {
  try {
    return await http.request<T>('GET', path);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * One URL path segment: percent-encoded, and never empty, `.` or `..` (a URL
 * resolves those, `%2e%2e` included, so they would steer the request to
 * another path; Kubernetes allows none of them as a name).
 */
export function pathSegment(value: string, what = 'path segment'): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..') {
    throw new PermanentError(`Refusing ${what} ${JSON.stringify(value)} in a Kubernetes path`);
  }
  return encodeURIComponent(value);
}

/** The URL path of a resource collection (or one object when `name` is given); every segment encoded. */
export function resourcePath(
  ref: { group: string; version: string; resource: string; namespaced: boolean },
  namespace?: string,
  name?: string,
): string {
  const version = pathSegment(ref.version, 'API version');
  const base =
    ref.group === ''
      ? `/api/${version}`
      : `/apis/${pathSegment(ref.group, 'API group')}/${version}`;
  const ns =
    ref.namespaced && namespace ? `/namespaces/${pathSegment(namespace, 'namespace')}` : '';
  return `${base}${ns}/${pathSegment(ref.resource, 'resource')}${name ? `/${pathSegment(name, 'name')}` : ''}`;
}
