import { strict as assert } from 'node:assert';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { CATALOG_FORMAT } from '../../../shared/catalog/catalog-format.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';
import { comparable } from '../../../shared/restore/apply-object.js';
import { loadBackup, manifestOf } from '../../../shared/catalog/load-backup.js';
import { runRestore } from '../../../shared/restore/run-restore.js';
import { restoreOptions, SOURCE, TARGET } from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { goldenCopy, goldenFormats } from '../../support/golden.js';
import { get, kubeHttp } from '../../../local/kube-requests.js';

const GOLDEN_NAMESPACE = 'golden';

/** What namespace mapping does to a manifest: every `namespace` field naming `from` names `to`. */
function mapNamespace<T>(value: T, from: string, to: string): T {
  if (Array.isArray(value)) return value.map((v: unknown) => mapNamespace(v, from, to)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === 'namespace' && v === from ? to : mapNamespace(v, from, to),
    ]),
  ) as T;
}

describe('golden stores: a backup written by every released catalog format verifies and restores', function () {
  this.timeout(120_000);

  it('has a golden store for every format up to the current one', () => {
    assert.deepEqual(
      goldenFormats(),
      Array.from({ length: CATALOG_FORMAT }, (_, i) => `format-${i + 1}`),
    );
  });

  for (const format of goldenFormats()) {
    describe(format, () => {
      it('verifies: catalog digest over the stored bytes, every pack and object, every sealed Secret', async () => {
        const { store, sealer } = await goldenCopy(format);
        const { catalog, records } = await loadBackup(store, SOURCE, 'golden');
        assert.equal(catalog.formatVersion, Number(format.slice('format-'.length)));
        assert.equal(catalog.phase, 'Completed');
        assert.equal(records.length, catalog.counts.objects);
        const sealed = records.filter((r) => r.sealed);
        assert.ok(sealed.length >= 4, 'the golden backup holds sealed Secrets');
        for (const r of sealed) assert.equal(manifestOf(r, sealer).kind, 'Secret');
      });

      it('restores into a real API server, object for object', async () => {
        const { store, sealer } = await goldenCopy(format);
        const target = kubeHttp('target');
        const ns = unique(`golden-${format}`);
        const report = await runRestore(
          { http: target, store, sealer },
          {
            restoreId: unique('golden'),
            source: SOURCE,
            backupId: 'golden',
            target: TARGET,
            options: restoreOptions({
              includeNamespaces: [GOLDEN_NAMESPACE],
              excludeResources: ['persistentvolumes'], // one name in every golden store
              namespaceMapping: { [GOLDEN_NAMESPACE]: ns },
            }),
          },
        );
        assert.deepEqual(
          report.outcomes.filter((o) => o.outcome === 'failed'),
          [],
        );
        const { records } = await loadBackup(store, SOURCE, 'golden');
        const created = report.outcomes.filter(
          (o) => o.outcome === 'restored' && o.namespace === ns,
        );
        assert.ok(created.length >= 10, `only ${created.length} namespaced objects restored`);
        for (const o of created) {
          const record = records.find(
            (r) =>
              r.ref.resource === o.resource.split('.')[0] &&
              r.ref.name === o.name &&
              r.ref.namespace === GOLDEN_NAMESPACE,
          );
          assert.ok(record, `${o.resource} ${o.name} is not in the catalog`);
          const live = await get(
            target,
            {
              group: record.ref.group,
              version: record.ref.version,
              resource: record.ref.resource,
              namespaced: true,
            },
            ns,
            o.name,
          );
          assert.ok(live, `${o.resource} ${ns}/${o.name} is not in the target`);
          const original = mapNamespace(manifestOf(record, sealer), GOLDEN_NAMESPACE, ns);
          const strip = (x: KubeObject): KubeObject => {
            const s = comparable(x);
            delete s.metadata.ownerReferences;
            return s;
          };
          assert.deepEqual(strip(live), strip(original), `${o.resource} ${o.name}`);
        }
      });
    });
  }

  it('format 1 is read without defaulting before the digest: the stored bytes are what is checked', async () => {
    const { store } = await goldenCopy('format-1');
    const catalog = await readCatalog(store, SOURCE, 'golden');
    assert.equal(catalog.formatVersion, 1);
    assert.equal(catalog.writtenBy, 'lifeboat 0.1.0');
  });
});
