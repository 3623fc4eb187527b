import { strict as assert } from 'node:assert';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { probeApiServer } from '../../../shared/clusters/api-server-probe.js';

/** A kubeconfig for a plain-HTTP server (client-node requires skipTLSVerify for http://). */
function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'probe-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

describe('probeApiServer', () => {
  const servers: Server[] = [];
  const seen: { path: string; authorization: string | undefined }[] = [];

  async function serve(handler: RequestListener): Promise<string> {
    const server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      handler(req, res);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    seen.length = 0;
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  it('is RUNNING when /readyz answers 200, with /version and the context credentials', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/version') res.end(JSON.stringify({ gitVersion: 'v1.33.13' }));
      else res.end('ok');
    });
    const result = await probeApiServer(kubeConfigFor(url), 1000);
    assert.deepEqual(result, { status: 'RUNNING', kubernetesVersion: 'v1.33.13' });
    assert.deepEqual(seen.map((s) => s.path).sort(), ['/readyz', '/version']);
    assert.ok(seen.every((s) => s.authorization === 'Bearer probe-token'));
  });

  it('is DEGRADED when /readyz fails, saying what it answered', async () => {
    const url = await serve((req, res) => {
      res.statusCode = req.url === '/readyz' ? 500 : 200;
      res.end(
        req.url === '/readyz' ? '[-]etcd failed: reason withheld' : '{"gitVersion":"v1.33.13"}',
      );
    });
    const result = await probeApiServer(kubeConfigFor(url), 1000);
    assert.equal(result.status, 'DEGRADED');
    assert.match(result.statusMessage ?? '', /readyz answered 500: \[-\]etcd failed/);
  });

  it('is UNAUTHORIZED on 401', async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 401;
      res.end('{"kind":"Status","reason":"Unauthorized"}');
    });
    const result = await probeApiServer(kubeConfigFor(url), 1000);
    assert.equal(result.status, 'UNAUTHORIZED');
  });

  it('is UNREACHABLE when nothing answers in time, and gives up at the timeout', async () => {
    const url = await serve(() => {
      // never answers
    });
    const started = Date.now();
    const result = await probeApiServer(kubeConfigFor(url), 300);
    const elapsed = Date.now() - started;
    assert.equal(result.status, 'UNREACHABLE');
    assert.match(
      result.statusMessage ?? '',
      /no answer from http:\/\/127\.0\.0\.1:\d+ within 300 ms/,
    );
    assert.ok(elapsed >= 290 && elapsed < 2000, `took ${elapsed} ms`);
  });

  it('is UNREACHABLE when the connection is refused', async () => {
    const url = await serve((_req, res) => res.end());
    const server = servers.pop();
    server?.close();
    await new Promise((r) => setTimeout(r, 20));
    const result = await probeApiServer(kubeConfigFor(url), 1000);
    assert.equal(result.status, 'UNREACHABLE');
    assert.match(result.statusMessage ?? '', /ECONNREFUSED/);
  });
});
