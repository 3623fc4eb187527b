import { strict as assert } from 'node:assert';
import { gunzipSync, gzipSync } from 'node:zlib';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import type { Catalog } from '../../../shared/catalog/catalog-schema.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { decodePack } from '../../../shared/catalog/pack.js';
import { mapLimit } from '../../../shared/concurrency.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import { loadBackup } from '../../../shared/catalog/load-backup.js';
import {
  runRestoreStep,
  type RestoreJob,
  type RestoreStep,
} from '../../../shared/restore/run-restore.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { Deadline } from '../../../shared/time/deadline.js';
import { CountingStore } from '../../../bench/counting-store.js';
import {
  gcsStore,
  policy,
  restoreOptions,
  sealerFor,
  SOURCE,
  TARGET,
} from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { create, ensure, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { seedWorkload, WIDGET_CRD } from '../../../local/sample-workload.js';
import { waitEstablished } from '../../../shared/restore/apply-object.js';

/** Counts the pack reads of a store, so a test can see what each restore step reads. */
class PackReads extends CountingStore {
  packs = 0;

  override get(key: string): Promise<Buffer> {
    if (key.startsWith('objects/')) this.packs += 1;
    return super.get(key);
  }
}

const CONFIGMAPS = 1200;
/** A value only the ConfigMaps' data holds: found in a saved progress, records would be kept there. */
const MARKER = 'streamed-not-kept-';

/** Only the namespaced objects: cluster-scoped ones are shared by every test on the target. */
const NAMESPACED_ONLY = {
  excludeResources: [
    'persistentvolumes',
    'clusterroles.*',
    'clusterrolebindings.*',
    'customresourcedefinitions.*',
  ],
};

describe('a streaming restore: planned once, packs read per chunk, handed over between steps', function () {
  this.timeout(300_000);
  let store: ObjectStore;
  let sealer: Sealer;
  let catalog: Catalog;
  let ns: string;
  const backupId = unique('stream');

  const job = (mapped: string): RestoreJob => ({
    restoreId: unique('r'),
    source: SOURCE,
    backupId,
    target: TARGET,
    options: restoreOptions({
      includeNamespaces: [ns],
      ...NAMESPACED_ONLY,
      namespaceMapping: { [ns]: mapped },
    }),
  });

  /** Steps with a deadline already passed: each applies one chunk and hands over. */
  const stepThrough = async (
    reads: PackReads,
    restore: RestoreJob,
    between: (step: number) => Promise<void> = async () => undefined,
  ): Promise<{ final: Extract<RestoreStep, { status: 'done' }>; readsPerStep: number[] }> => {
    const readsPerStep: number[] = [];
    for (let n = 0; ; n++) {
      const before = reads.packs;
      const step = await runRestoreStep(
        { http: kubeHttp('target'), store: reads, sealer },
        restore,
        Deadline.at(0),
      );
      readsPerStep.push(reads.packs - before);
      if (step.status === 'done') return { final: step, readsPerStep };
      await between(n);
    }
  };

  before(async () => {
    const source = kubeHttp('source');
    store = await gcsStore();
    let encryption;
    ({ sealer, encryption } = await sealerFor(store));
    ns = unique('stream');
    await seedWorkload(source, ns);
    await mapLimit(
      Array.from({ length: CONFIGMAPS }, (_, i) => i),
      16,
      (i) =>
        create(source, R.configmaps, {
          metadata: { name: `many-${i}`, namespace: ns },
          data: { value: `${MARKER}${i}` },
        }),
    );
    const target = kubeHttp('target');
    await ensure(target, R.crds, WIDGET_CRD);
    await waitEstablished(target, WIDGET_CRD.metadata.name);
    ({ catalog } = await runBackup(
      { http: source, store, sealer, encryption },
      { backupId, cluster: SOURCE, policy: policy({ filters: { includeNamespaces: [ns] } }) },
    ));
    assert.equal(catalog.phase, 'Completed');
  });

  it('reads every pack once to plan, then only the packs each step applies; every object exactly once', async () => {
    const mapped = unique('streamed');
    const reads = new PackReads(store);
    const restore = job(mapped);
    const progressSizes: number[] = [];
    const { final, readsPerStep } = await stepThrough(reads, restore, async () => {
      const saved = (await store.get(Layout.restoreProgress(restore.restoreId))).toString('utf8');
      progressSizes.push(saved.length);
      // The plan, not the backup: no record's content is carried between steps.
      assert.ok(!saved.includes(MARKER), 'a ConfigMap record was saved with the progress');
      assert.ok((JSON.parse(saved) as { plan?: unknown }).plan, 'the plan is saved');
    });
    const { report } = final;
    console.log(
      `      ${readsPerStep.length} steps; pack reads per step ${JSON.stringify(readsPerStep)}; ` +
        `${catalog.packs.length} packs; progress saved ${Math.max(...progressSizes)} bytes at most`,
    );
    assert.ok(readsPerStep.length >= 4, `only ${readsPerStep.length} steps`);
    // The first step reads every pack to verify and plan; the others only what their chunk needs.
    assert.ok(readsPerStep[0]! >= catalog.packs.length);
    for (const n of readsPerStep.slice(1)) assert.ok(n <= 4, `a later step read ${n} packs`);
    assert.equal(
      report.counts.failed,
      0,
      JSON.stringify(report.outcomes.filter((o) => o.outcome === 'failed')),
    );
    // Every object of the backup has exactly one outcome, and every selected one is in the target.
    const keys = report.outcomes.map((o) => `${o.resource}/${o.namespace ?? ''}/${o.name}`);
    assert.equal(new Set(keys).size, keys.length, 'an object has two outcomes');
    assert.equal(report.outcomes.length, catalog.counts.objects);
    const many = (await list(kubeHttp('target'), R.configmaps, mapped)).filter((c) =>
      c.metadata.name.startsWith('many-'),
    );
    assert.equal(many.length, CONFIGMAPS);
    assert.equal(await store.exists(Layout.restoreProgress(restore.restoreId)), false);
  });

  it('fails the objects of a pack changed after it was verified, naming the pack, and restores the rest', async () => {
    // The pack holding ConfigMap many-7, and the names of every object in it.
    const packs = await Promise.all(
      catalog.packs
        .filter((p) => p.resource.resource === 'configmaps')
        .map(async (entry) => {
          const bytes = await store.get(Layout.pack(entry.digest));
          return {
            entry,
            bytes,
            names: decodePack(bytes, entry.digest).records.map((r) => r.ref.name),
          };
        }),
    );
    const altered = packs.find((p) => p.names.includes('many-7'));
    assert.ok(altered);
    const key = Layout.pack(altered.entry.digest);
    const mapped = unique('altered');
    const restore = job(mapped);
    try {
      const { final } = await stepThrough(new PackReads(store), restore, async (n) => {
        if (n !== 0) return;
        // Between the verification (step one) and the ConfigMaps' wave: one value edited.
        const text = gunzipSync(altered.bytes).toString();
        assert.ok(text.includes(`${MARKER}7"`));
        await store.put(key, gzipSync(Buffer.from(text.replace(`${MARKER}7"`, 'EDITED"'))));
      });
      const { report } = final;
      const configMaps = report.outcomes.filter((o) => o.kind === 'ConfigMap');
      const failed = configMaps.filter((o) => o.outcome === 'failed');
      assert.deepEqual(failed.map((o) => o.name).sort(), [...altered.names].sort());
      for (const o of failed) {
        assert.match(
          o.reason ?? '',
          new RegExp(`pack ${altered.entry.digest} no longer verifies.*modified after the backup`),
        );
      }
      assert.equal(report.phase, 'PartiallyFailed');
      const restoredNames = new Set(
        (await list(kubeHttp('target'), R.configmaps, mapped)).map((c) => c.metadata.name),
      );
      for (const name of altered.names) assert.ok(!restoredNames.has(name), `${name} was restored`);
      const others = packs.filter((p) => p !== altered).flatMap((p) => p.names);
      for (const name of others) assert.ok(restoredNames.has(name), `${name} is missing`);
      assert.ok((await list(kubeHttp('target'), R.secrets, mapped)).length > 0);
    } finally {
      await store.put(key, altered.bytes);
    }
    // Put back, the backup verifies again as a whole.
    assert.equal(
      (await loadBackup(store, SOURCE, backupId)).records.length,
      catalog.counts.objects,
    );
    assert.equal((await readCatalog(store, SOURCE, backupId)).digest, catalog.digest);
  });
});
