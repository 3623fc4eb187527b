import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCatalog, type UnsignedCatalog } from '../../../shared/catalog/catalog-io.js';
import { writeDrillReport } from '../../../shared/drill/drill-store.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { lockBackup } from '../../../shared/pipeline/locks.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { startUiServer } from '../../../shared/ui/ui-server.js';
import { validate } from '../../../shared/validate.js';
import { FaultyStore } from '../../../local/faulty-store.js';

const cluster = { project: 'local', location: 'local', name: 'shop' };

/** A catalog of the shop, written at `at`, empty unless told otherwise. */
const catalogOf = (
  backupId: string,
  at: string,
  fields: Partial<UnsignedCatalog> = {},
): UnsignedCatalog => ({
  kind: 'Catalog',
  backupId,
  cluster,
  kubernetesVersion: 'v1.33.13',
  policy: validate(BackupPolicy, { name: 'nightly', projects: ['local'] }, 'policy'),
  phase: 'Completed',
  startedAt: at,
  completedAt: at,
  counts: { objects: 0, packs: 0, packBytes: 0, volumes: 0, secrets: 0 },
  resources: [],
  packs: [],
  volumes: [],
  warnings: [],
  errors: [],
  ...fields,
});

describe('ui: the handler over a real store, through its own server', () => {
  let store: FaultyStore;
  let server: { url: string; close(): Promise<void> };

  before(async () => {
    store = new FaultyStore(new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-ui-'))));
    const at = '2026-11-30T10:00:00.000Z';
    await writeCatalog(
      store,
      catalogOf('nightly-1', at, {
        phase: 'PartiallyFailed',
        volumes: [
          {
            pvName: 'pv-data',
            pvcNamespace: 'shop',
            pvcName: 'data-db-0',
            driver: 'pd.csi.storage.gke.io',
            capacity: '10Gi',
            disk: { project: 'p', name: 'disk-1', zone: 'europe-west1-b' },
            snapshot: { project: 'p', name: 'snap-nightly-1' },
            status: 'READY',
          },
        ],
        warnings: ['<script>alert(1)</script> could not be listed'],
      }),
    );
    await lockBackup(store, cluster, 'nightly-1', 'audit');
    await writeDrillReport(store, {
      apiVersion: 'lifeboat.dev/v1',
      kind: 'DrillReport',
      drillId: 'd1',
      policy: 'weekly',
      source: cluster,
      backupId: 'nightly-1',
      drillCluster: { project: 'local', location: 'local', name: 'drill' },
      restoreId: 'drill-d1',
      verdict: 'passed',
      requestedAt: at,
      completedAt: at,
      rtoSeconds: 42,
      namespaces: {},
      objects: { compared: 0, equal: 0, comparedInPlace: 0, mismatches: [] },
      volumes: [],
      cleanup: { objectsDeleted: 0, disksDeleted: 0 },
      reasons: [],
      leftBehind: [],
    });
    server = await startUiServer({ store, now: () => new Date('2026-11-30T11:00:00Z') });
  });

  after(() => server.close());
  afterEach(() => store.disarm());

  it('listens on 127.0.0.1 only', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('escapes what the store holds', async () => {
    const res = await fetch(`${server.url}/clusters/local.local.shop/backups/nightly-1`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.ok(!body.includes('<script>alert(1)'));
    assert.ok(body.includes('&lt;script&gt;alert(1)&lt;/script&gt; could not be listed'));
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  it("shows a backup's lock and drill verdict in the timeline, and its volumes", async () => {
    const timeline = await (await fetch(`${server.url}/clusters/local.local.shop`)).text();
    assert.match(timeline, /data-field="lock">\s*<span class="badge">locked<\/span>/);
    assert.match(
      timeline,
      /<span class="verdict-passed">passed<\/span\s*>\s*<span class="muted">RTO 42s/,
    );
    const contents = await (
      await fetch(`${server.url}/clusters/local.local.shop/backups/nightly-1`)
    ).text();
    const row = /<th scope="row">pv-data<\/th>([\s\S]*?)<\/tr>/.exec(contents)?.[1] ?? '';
    for (const shown of ['shop/data-db-0', 'READY', 'snap-nightly-1', '10Gi', 'europe-west1-b']) {
      assert.ok(row.includes(shown), `${shown} in the volume's row`);
    }
  });

  it("sends a backup's summary before its packs are read, and says where a pack is missing", async () => {
    const at = '2026-11-30T10:30:00.000Z';
    const missing = 'ab'.repeat(32);
    await writeCatalog(
      store,
      catalogOf('nightly-7', at, {
        counts: { objects: 1, packs: 1, packBytes: 10, volumes: 0, secrets: 0 },
        packs: [
          {
            digest: missing,
            bytes: 10,
            objects: 1,
            shardId: 'configmaps',
            resource: {
              group: '',
              version: 'v1',
              resource: 'configmaps',
              kind: 'ConfigMap',
              namespaced: true,
            },
          },
        ],
      }),
    );
    const res = await fetch(`${server.url}/clusters/local.local.shop/backups/nightly-7`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), null, 'streamed, not sent whole');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const body = await res.text();
    const summary = body.indexOf('data-field="objects"');
    const alert = body.indexOf('role="alert"');
    assert.ok(summary > 0 && alert > summary, 'the summary, then the reason');
    assert.match(body, new RegExp(`pack ${missing} \\(configmaps\\) is missing`));
    assert.ok(body.endsWith('</main></body></html>'), 'the document is closed');
    const head = await fetch(`${server.url}/clusters/local.local.shop/backups/nightly-7`, {
      method: 'HEAD',
    });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('answers a store that fails with a 500 page giving the reason and no stack', async () => {
    store.arm({ op: 'list', keys: () => true, mode: 'transient' });
    const res = await fetch(server.url);
    assert.equal(res.status, 500);
    const body = await res.text();
    assert.match(body, /<h1>The store could not be read<\/h1>/);
    assert.match(body, /injected: list/);
    assert.ok(!/\bat .*\.js:\d+/.test(body), 'no stack trace');
  });

  it('refuses anything but GET and HEAD, and names bad parameters', async () => {
    const put = await fetch(server.url, { method: 'PUT', body: 'x' });
    assert.equal(put.status, 405);
    const head = await fetch(server.url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const cases: [string, number, RegExp][] = [
      ['/clusters/not-a-key', 400, /cluster &quot;not-a-key&quot; is not PROJECT.LOCATION.NAME/],
      ['/clusters/local.local.shop/diff?from=nightly-1', 400, /to is missing/],
      ['/clusters/local.local.shop/diff?from=nightly-1&to=nightly-1', 400, /the same backup/],
      ['/clusters/local.local.shop/diff?from=nightly-1&to=nightly-2', 404, /nightly-2/],
      [
        '/clusters/local.local.shop/backups/nightly-1/objects?resource=configmaps',
        400,
        /name is missing/,
      ],
      [
        '/clusters/local.local.shop/backups/nightly-1/objects?resource=configmaps&name=x',
        404,
        /holds no configmaps x/,
      ],
      ['/clusters/local.local.shop/backups/%E0%A4%A', 400, /malformed %-escape/],
      ['/restores/none-here', 404, /restore &quot;none-here&quot; not found/],
      ['/clusters/local.local.shop/backups/nightly-1/extra/path', 404, /no page at/],
    ];
    for (const [path, status, message] of cases) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, status, path);
      assert.match(await res.text(), message, path);
    }
  });
});
