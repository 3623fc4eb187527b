import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { writeCatalog } from '../../../shared/catalog/catalog-io.js';
import { BackupPolicy } from '../../../shared/messages/index.js';
import { openStore } from '../../../shared/store/open-store.js';
import { validate } from '../../../shared/validate.js';
import '../../../functions/ui.js';

/** The ui function, served by the Functions Framework as it is deployed. */
describe('the ui HTTP function', function () {
  const saved = { ...process.env };
  let dir: string;
  let base: string;
  let close: () => Promise<void>;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-ui-fn-'));
    const server = getTestServer('ui');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });

  after(async function () {
    process.env = saved;
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The JSON lines written to stdout (where the function logs) while `work` runs. */
  async function linesLoggedDuring(
    work: () => Promise<unknown>,
  ): Promise<Record<string, unknown>[]> {
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(chunk.toString());
      return true;
    }) as typeof process.stdout.write;
    try {
      await work();
    } finally {
      process.stdout.write = write;
    }
    return written
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  // First: the instance must not be built yet, so that building it fails and logs.
  it("logs while it serves a request with the request's execution id and trace", async function () {
    const keys = ['LIFEBOAT_STORE', 'LIFEBOAT_PROJECT', 'LIFEBOAT_KEY_FILE', 'LIFEBOAT_KMS_KEY'];
    process.env['LIFEBOAT_STORE'] = `file://${dir}`;
    process.env['LIFEBOAT_PROJECT'] = 'prod-project';
    // Both keys: the configuration loads, and building the instance fails with a logged line.
    process.env['LIFEBOAT_KEY_FILE'] = join(dir, 'key');
    process.env['LIFEBOAT_KMS_KEY'] = 'projects/p/locations/l/keyRings/r/cryptoKeys/k';
    try {
      const lines = await linesLoggedDuring(async () => {
        const refused = await fetch(`${base}/`, {
          headers: {
            'Function-Execution-Id': 'xk2hj1a9b3c4',
            'X-Cloud-Trace-Context': '0af7651916cd43dd8448eb211c80319c/6052;o=1',
          },
        });
        assert.equal(refused.status, 503);
        assert.match(await refused.text(), /Both LIFEBOAT_KMS_KEY and LIFEBOAT_KEY_FILE are set/);
      });
      const line = lines.find((l) => l['message'] === 'ui: cannot start');
      assert.deepEqual(line?.['logging.googleapis.com/labels'], { execution_id: 'xk2hj1a9b3c4' });
      assert.equal(
        line?.['logging.googleapis.com/trace'],
        'projects/prod-project/traces/0af7651916cd43dd8448eb211c80319c',
      );
    } finally {
      for (const key of keys) delete process.env[key];
    }
  });

  it('answers 503 with the reason while the configuration is wrong, and tries again on the next request', async function () {
    delete process.env['LIFEBOAT_STORE'];
    delete process.env['LIFEBOAT_CONFIG'];
    const refused = await fetch(`${base}/`);
    assert.equal(refused.status, 503);
    assert.match(await refused.text(), /LIFEBOAT_STORE \(store\) is required/);

    const url = `file://${dir}`;
    const store = openStore(url);
    await writeCatalog(store, {
      kind: 'Catalog',
      backupId: 'nightly-20260101-0200',
      cluster: { project: 'prod-project', location: 'europe-west1', name: 'prod' },
      kubernetesVersion: 'v1.33.0',
      phase: 'Completed',
      startedAt: '2026-01-01T02:00:00Z',
      completedAt: '2026-01-01T02:01:00Z',
      counts: { objects: 0, packs: 0, packBytes: 0, volumes: 0, secrets: 0 },
      resources: [],
      packs: [],
      volumes: [],
      warnings: [],
      errors: [],
      policy: validate(BackupPolicy, { name: 'nightly', projects: ['prod-project'] }, 'policy'),
    });
    process.env['LIFEBOAT_STORE'] = url;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    // The cluster of the one catalog, linked to its last backup.
    assert.match(html, /prod-project/);
    assert.match(html, /nightly-20260101-0200/);
  });

  it('writes nothing: a POST is refused', async function () {
    const posted = await fetch(`${base}/`, { method: 'POST', body: 'x' });
    assert.equal(posted.status, 405);
  });
});
