import { strict as assert } from 'node:assert';
import { runBackup } from '../../../shared/backup/run-backup.js';
import type { Catalog } from '../../../shared/catalog/catalog-schema.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import type { KubeHttp } from '../../../shared/kube/kube-http.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';
import { runRestore } from '../../../shared/restore/run-restore.js';
import { comparable } from '../../../shared/restore/apply-object.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import {
  gcsStore,
  policy,
  restoreOptions,
  sealerFor,
  SOURCE,
  TARGET,
} from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { get, kubeHttp, list, R, type Ref } from '../../../local/kube-requests.js';
import { seedWorkload } from '../../../local/sample-workload.js';

/** Compares what matters for restore: sanitised, with owner uids (new in every cluster) ignored. */
function comparableAcrossClusters(obj: KubeObject): KubeObject {
  const s = comparable(obj);
  for (const o of s.metadata.ownerReferences ?? []) o.uid = '';
  return s;
}

const NAMESPACED: [keyof typeof R, Ref][] = (
  [
    'configmaps',
    'secrets',
    'services',
    'serviceaccounts',
    'pvcs',
    'deployments',
    'statefulsets',
    'roles',
    'rolebindings',
    'widgets',
  ] as const
).map((k) => [k, R[k]]);

describe('manifest backup and restore between two real API servers', function () {
  this.timeout(180_000);
  let source: KubeHttp;
  let target: KubeHttp;
  let store: ObjectStore;
  let sealer: Sealer;
  let encryption: { keyId: string; wrappedBy: string };
  let ns: string;
  let seeded: { pv: string; clusterRole: string };
  let catalog: Catalog;
  const backupId = unique('rt');

  before(async () => {
    source = kubeHttp('source');
    target = kubeHttp('target');
    store = await gcsStore();
    ({ sealer, encryption } = await sealerFor(store));
    ns = unique('shop');
    seeded = await seedWorkload(source, ns);
    ({ catalog } = await runBackup(
      { http: source, store, sealer, encryption },
      {
        backupId,
        cluster: SOURCE,
        policy: policy({ filters: { includeNamespaces: [ns], includeClusterResources: 'on' } }),
      },
    ));
  });

  it('writes a Completed catalog that counts every object and keeps Secrets sealed', async () => {
    assert.equal(catalog.phase, 'Completed', catalog.errors.join('; '));
    assert.match(catalog.kubernetesVersion, /^v1\.33\./);
    assert.ok(catalog.counts.secrets >= 4);
    const raw = JSON.stringify(catalog);
    assert.ok(!raw.includes('s3cr3t'), 'secret value leaked into the catalog');
    const widgets = catalog.resources.find((r) => r.resource === 'widgets');
    assert.equal(widgets?.objects, 2);
    const configmaps = catalog.resources.find((r) => r.resource === 'configmaps');
    assert.equal(
      configmaps?.objects,
      4,
      'four ConfigMaps: three of the four seeded (the excluded one is left out) and kube-root-ca.crt',
    );
  });

  it('restores every restorable object equal to its sanitised original', async () => {
    const report = await runRestore(
      { http: target, store, sealer },
      {
        restoreId: unique('r'),
        source: SOURCE,
        backupId,
        target: TARGET,
        options: restoreOptions({ includeNamespaces: [ns] }),
      },
    );
    const mine = report.outcomes.filter((o) => o.namespace === ns);
    assert.deepEqual(
      mine.filter((o) => o.outcome === 'failed'),
      [],
    );
    for (const [label, ref] of NAMESPACED) {
      const originals = await list(source, ref, ns);
      assert.ok(originals.length > 0, `${label}: nothing seeded`);
      for (const original of originals) {
        if (original.metadata.ownerReferences?.some((o) => o.controller)) continue;
        if (original.metadata.labels?.['lifeboat.dev/exclude-from-backup']) continue;
        // Each cluster's controllers publish their own CA there; restore leaves it to the target.
        if (label === 'configmaps' && original.metadata.name === 'kube-root-ca.crt') continue;
        const restored = await get(target, ref, ns, original.metadata.name);
        assert.ok(restored, `${label} ${original.metadata.name} was not restored`);
        assert.deepEqual(
          comparableAcrossClusters(restored),
          comparableAcrossClusters({
            ...original,
            apiVersion: restored.apiVersion,
            kind: restored.kind,
          }),
          `${label} ${original.metadata.name}`,
        );
      }
    }
    const opaque = await get(target, R.secrets, ns, 'opaque');
    assert.equal(
      Buffer.from(
        (opaque?.['data'] as Record<string, string>)['password'] ?? '',
        'base64',
      ).toString(),
      's3cr3t-value',
    );
    const pv = await get(target, R.pvs, undefined, seeded.pv);
    assert.equal((pv?.['spec'] as { claimRef?: { name: string } }).claimRef?.name, 'uploads');
    assert.ok(await get(target, R.clusterroles, undefined, seeded.clusterRole));
    const generated = (await list(target, R.configmaps, ns)).filter((c) =>
      c.metadata.name.startsWith('generated-'),
    );
    assert.equal(generated.length, 1);
    assert.deepEqual((await get(target, R.configmaps, ns, 'guarded'))?.metadata.finalizers, [
      'example.lifeboat.dev/keep',
    ]);
  });

  it('leaves controller-owned objects to their controllers and says why', async () => {
    assert.equal(await get(target, R.replicasets, ns, 'web-5d8f'), undefined);
    assert.equal(await get(target, R.pods, ns, 'web-5d8f-abcde'), undefined);
    assert.equal(await get(target, R.configmaps, ns, 'ignored'), undefined);
    const nodePort = await get(target, R.services, ns, 'web-nodeport');
    assert.equal((nodePort?.['spec'] as { type: string }).type, 'NodePort');
  });

  it('second backup of an unchanged cluster uploads no packs', async () => {
    const again = await runBackup(
      { http: source, store, sealer, encryption },
      {
        backupId: `${backupId}-2`,
        cluster: SOURCE,
        policy: policy({ filters: { includeNamespaces: [ns], includeClusterResources: 'on' } }),
      },
    );
    assert.equal(again.catalog.phase, 'Completed');
    assert.equal(again.catalog.counts.objects, catalog.counts.objects);
    assert.equal(again.uploadedBytes, 0);
    assert.deepEqual(
      again.catalog.packs.map((p) => p.digest).sort(),
      catalog.packs.map((p) => p.digest).sort(),
    );
  });
});
