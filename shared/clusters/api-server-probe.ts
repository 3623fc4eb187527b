import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '../errors.js';

/** What a quick look at an API server found. */
export interface ProbeResult {
  /** RUNNING; UNREACHABLE (no answer in time); UNAUTHORIZED (401/403); DEGRADED (readyz failing). */
  status: 'RUNNING' | 'UNREACHABLE' | 'UNAUTHORIZED' | 'DEGRADED';
  statusMessage?: string;
  /** /version's gitVersion, when it answered. */
  kubernetesVersion?: string;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * Asks the current context's API server `/readyz` and `/version` at once,
 * giving both `timeoutMs` in all (connect, TLS, response). `/readyz` decides
 * (200: RUNNING); a server without it (404) counts as RUNNING when
 * `/version` answers. Never throws: every failure is a status with a message.
 */
export async function probeApiServer(kc: KubeConfig, timeoutMs = 3000): Promise<ProbeResult> {
  const server = kc.getCurrentCluster()?.server.replace(/\/$/, '');
  if (!server) return { status: 'UNREACHABLE', statusMessage: 'the context names no cluster' };
  let options: RequestOptions;
  try {
    options = { headers: {} };
    await kc.applyToHTTPSOptions(options);
  } catch (error) {
    return {
      status: 'UNAUTHORIZED',
      statusMessage: `credentials unusable: ${errorMessage(error)}`,
    };
  }
  const signal = AbortSignal.timeout(timeoutMs);
  const [readyz, version] = await Promise.allSettled([
    get(`${server}/readyz`, options, signal),
    get(`${server}/version`, options, signal),
  ]);
  const kubernetesVersion =
    version.status === 'fulfilled' && version.value.status === 200
      ? gitVersion(version.value.body)
      : undefined;
  const result = (r: Omit<ProbeResult, 'kubernetesVersion'>): ProbeResult =>
    kubernetesVersion ? { ...r, kubernetesVersion } : r;

  if (readyz.status === 'rejected') {
    const why = signal.aborted
      ? `no answer from ${server} within ${timeoutMs} ms`
      : `${server}: ${errorMessage(readyz.reason)}`;
    return result({ status: 'UNREACHABLE', statusMessage: why });
  }
  const { status, body } = readyz.value;
  if (status === 200 || (status === 404 && kubernetesVersion)) return result({ status: 'RUNNING' });
  if (status === 401 || status === 403) {
    return result({ status: 'UNAUTHORIZED', statusMessage: `${server}/readyz answered ${status}` });
  }
  return result({
    status: 'DEGRADED',
    statusMessage: `${server}/readyz answered ${status}: ${body.slice(0, 300).trim()}`,
  });
}

function get(url: string, options: RequestOptions, signal: AbortSignal): Promise<Answer> {
  const send = url.startsWith('http:') ? httpRequest : httpsRequest;
  return new Promise<Answer>((resolve, reject) => {
    const req = send(url, { ...options, method: 'GET', signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function gitVersion(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { gitVersion?: unknown };
    return typeof parsed.gitVersion === 'string' ? parsed.gitVersion : undefined;
  } catch {
    return undefined;
  }
}
