import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mapLimit } from '../../../shared/concurrency.js';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { decodePack } from '../../../shared/catalog/pack.js';
import { generateKeyFileContents } from '../../../shared/crypto/key-wrapper.js';
import { PermanentError } from '../../../shared/errors.js';
import { listPages, OBJECT_BYTES_MAX } from '../../../shared/kube/list-pages.js';
import { KubeHttp, resourcePath } from '../../../shared/kube/kube-http.js';
import { openStore } from '../../../shared/store/open-store.js';
import { SOURCE } from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { create, kubeHttp, R } from '../../../local/kube-requests.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'big-export-worker.js');
const COUNT = 120;
const SIZE = 900_000;

describe('the export is bounded in bytes, not only in objects (attacks)', function () {
  this.timeout(600_000);
  const http = kubeHttp('source');
  const ns = unique('big');

  before(async () => {
    await create(http, R.namespaces, { metadata: { name: ns } });
    await mapLimit(
      Array.from({ length: COUNT }, (_, i) => i),
      8,
      async (i) => {
        await create(http, R.configmaps, {
          metadata: { name: `big-${String(i).padStart(3, '0')}`, namespace: ns },
          data: { blob: String.fromCharCode(97 + (i % 26)).repeat(SIZE) },
        });
      },
    );
  });

  after(async () => {
    await http.request('DELETE', resourcePath(R.namespaces, undefined, ns)).catch(() => undefined);
    http.close();
  });

  it(`exports ${COUNT} ConfigMaps of 900 KB under a 128 MiB heap, and the backup verifies`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-big-'));
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, generateKeyFileContents(), { mode: 0o600 });
    const storeUrl = `file://${join(dir, 'store')}`;
    const backupId = unique('big-backup');
    const run = spawnSync(
      process.execPath,
      ['--max-old-space-size=128', WORKER, storeUrl, keyFile, ns, backupId],
      { encoding: 'utf8', env: process.env, timeout: 300_000 },
    );
    assert.equal(
      run.status,
      0,
      `worker exited ${run.status} ${run.signal}: ${run.stderr.slice(-2000)}`,
    );
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
      phase: string;
      objects: number;
      peakRssMb: number;
    };
    assert.equal(summary.phase, 'Completed', run.stdout);

    // Verify: every pack decodes against its digest, every ConfigMap is whole.
    const store = openStore(storeUrl);
    const catalog = await readCatalog(store, SOURCE, backupId);
    const big = new Map<string, number>();
    for (const pack of catalog.packs) {
      const { records } = decodePack(await store.get(Layout.pack(pack.digest)), pack.digest);
      for (const r of records) {
        if (r.ref.kind === 'ConfigMap' && r.ref.name.startsWith('big-'))
          big.set(r.ref.name, (r.object?.['data'] as { blob: string }).blob.length);
      }
    }
    assert.equal(big.size, COUNT);
    for (const [name, length] of big) assert.equal(length, SIZE, name);
    assert.ok(
      catalog.packs.length >= 2,
      `${catalog.packs.length} packs: cut by bytes, not only by count`,
    );
  });

  it('pages shrink to the objects: no LIST response passes its byte bound', async () => {
    const sizes: number[] = [];
    const limits: number[] = [];
    const spy = {
      request: (method: string, path: string, req: Parameters<typeof http.request>[2]) => {
        limits.push(Number(req?.query?.['limit']));
        return http.request(method, path, {
          ...req,
          onBytes: (n) => {
            sizes.push(n);
            req?.onBytes?.(n);
          },
        });
      },
    } as unknown as typeof http;
    let objects = 0;
    for await (const page of listPages(
      spy,
      { ...R.configmaps, kind: 'ConfigMap' },
      { limit: 500 },
    )) {
      // kube-root-ca.crt is the namespace's own, made by the controllers.
      objects += page.items.filter(
        (o) => o.metadata.namespace === ns && o.metadata.name.startsWith('big-'),
      ).length;
    }
    assert.equal(objects, COUNT);
    assert.ok(Math.max(...sizes) <= 16 * 1024 * 1024, JSON.stringify(sizes));
    assert.ok(Math.min(...limits) < 500, JSON.stringify(limits));
  });

  it(`refuses a single object larger than ${OBJECT_BYTES_MAX} bytes instead of buffering it`, async () => {
    // The API server cannot store such an object; a server that answers with one anyway is refused.
    const limits: number[] = [];
    const server = createServer((req, res) => {
      const limit = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('limit'));
      limits.push(limit);
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'y'.repeat(64 * 1024);
      let objects = 0;
      let written = 0;
      const pump = (): void => {
        while (!res.destroyed) {
          if (written === 0)
            res.write(
              `${objects ? ',' : '{"items":['}{"metadata":{"name":"o${objects}"},"data":{"x":"`,
            );
          if (written >= OBJECT_BYTES_MAX + 1024 * 1024) {
            written = 0;
            objects += 1;
            if (objects >= Math.min(limit, 8)) {
              res.end('"}}],"metadata":{}}');
              return;
            }
            res.write('"}}');
            continue;
          }
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'fake',
          skipTLSVerify: true,
          server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        },
      ],
      users: [{ name: 'u' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
      currentContext: 'fake',
    });
    const fakeHttp = new KubeHttp(kc);
    const rssBefore = process.memoryUsage().rss;
    try {
      await assert.rejects(
        (async () => {
          for await (const page of listPages(
            fakeHttp,
            { ...R.configmaps, kind: 'ConfigMap' },
            { limit: 500 },
          ))
            void page;
        })(),
        (error: unknown) =>
          error instanceof PermanentError && /larger than \d+ bytes/.test(error.message),
      );
    } finally {
      fakeHttp.close();
      server.closeAllConnections();
      server.close();
    }
    assert.equal(limits.at(-1), 1, JSON.stringify(limits));
    assert.ok(limits[0]! > 1);
    const grewMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    assert.ok(grewMb < 200, `RSS grew by ${Math.round(grewMb)} MB`);
  });
});
