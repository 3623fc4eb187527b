import { strict as assert } from 'node:assert';
import { DiskVolumeBackup } from '../../../shared/backup/backup-volume.js';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import type { Catalog } from '../../../shared/catalog/catalog-schema.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import { Deadline } from '../../../shared/time/deadline.js';
import { GceSnapshotter } from '../../../shared/disks/gce-snapshotter.js';
import { labelValue } from '../../../shared/disks/names.js';
import { GceDrillDisks, RESTORE_DISK_LABEL } from '../../../shared/drill/drill-disks.js';
import { drillRestoreId } from '../../../shared/drill/drill-names.js';
import { readDrillReport } from '../../../shared/drill/drill-store.js';
import { runDrill, type DrillDeps } from '../../../shared/drill/run-drill.js';
import { resourcePath, type KubeHttp } from '../../../shared/kube/kube-http.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';
import { DrillPolicy, type DrillJob, type DrillReport } from '../../../shared/messages/drill.js';
import { DiskVolumeRestore } from '../../../shared/restore/restore-volume.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { validate } from '../../../shared/validate.js';
import { gcsStore, policy, sealerFor, SOURCE, TARGET } from '../../../local/backup-fixture.js';
import { kubeConfigFor, unique } from '../../../local/settings.js';
import { create, ensure, get, kubeHttp, list, R, waitBound } from '../../../local/kube-requests.js';
import { seedVolumes, type SeededVolume } from '../../support/volumes.js';
import { WIDGET_CRD } from '../../../local/sample-workload.js';
import { waitEstablished } from '../../../shared/restore/apply-object.js';
import { ComputeStandin } from '../../../local/standins/compute/server.js';

const drillId = (): string => unique('d').replace('-', '');

/**
 * Restore drills against the local environment: a backup with volume data
 * (disks in the Compute stand-in) is restored into the target cluster under
 * drill namespaces, verified and cleaned up; a backup missing a pack fails
 * its drill and leaves nothing behind.
 */
describe('restore drills', function () {
  this.timeout(240_000);
  let compute: ComputeStandin;
  let snapshotter: GceSnapshotter;
  let disks: GceDrillDisks;
  let store: ObjectStore;
  let sealer: Sealer;
  let source: KubeHttp;
  let target: KubeHttp;
  let ns: string;
  let volumes: SeededVolume[];
  let catalog: Catalog;

  const drillPolicy = (overrides: Record<string, unknown> = {}): DrillPolicy =>
    validate(
      DrillPolicy,
      { name: 'weekly', projects: ['local'], drillCluster: TARGET, namespaces: [ns], ...overrides },
      'test drill policy',
    );

  const deps = (overrides: Partial<DrillDeps> = {}): DrillDeps => ({
    target: TARGET,
    kubeConfig: kubeConfigFor('target'),
    store,
    sealer,
    volumes: new DiskVolumeRestore(kubeConfigFor('target'), snapshotter),
    disks,
    cleanupTimeoutMs: 90_000,
    ...overrides,
  });

  const job = (id: string, overrides: Partial<DrillJob> = {}): DrillJob => ({
    apiVersion: 'lifeboat.dev/v1',
    kind: 'DrillJob',
    drillId: id,
    policy: drillPolicy(),
    cluster: SOURCE,
    ...overrides,
  });

  /** Namespaces of the target named with the drill's prefix. */
  const drillNamespaces = async (id: string): Promise<string[]> =>
    (await list(target, R.namespaces))
      .map((n) => n.metadata.name)
      .filter((n) => n.startsWith(`drill-${id}-`));

  /** Objects of the target carrying the drill's restore label, of the kinds a drill makes here. */
  const labelled = async (id: string): Promise<string[]> => {
    const found: string[] = [];
    for (const ref of [R.namespaces, R.pvs, R.crds, R.clusterroles]) {
      const items = await target.request<{ items: KubeObject[] }>('GET', resourcePath(ref), {
        query: { labelSelector: `lifeboat.dev/restore=${drillRestoreId(id)}` },
      });
      found.push(...items.items.map((o) => `${ref.resource}/${o.metadata.name}`));
    }
    return found;
  };

  /** Disks at the Compute stand-in made by the drill's restore. */
  const drillDisks = (id: string): string[] =>
    compute.state
      .allDisks()
      .filter((d) => d.labels[RESTORE_DISK_LABEL] === labelValue(drillRestoreId(id)))
      .map((d) => d.address.name);

  before(async () => {
    compute = await ComputeStandin.start();
    snapshotter = new GceSnapshotter({ client: compute.clientOptions(), pollIntervalMs: 20 });
    disks = new GceDrillDisks(compute.clientOptions(), 20);
    store = await gcsStore();
    let encryption;
    ({ sealer, encryption } = await sealerFor(store));
    source = kubeHttp('source');
    target = kubeHttp('target');
    ns = unique('drilled');
    // A CRD both clusters have (the target's own, without any restore label): compared, never overwritten.
    for (const http of [source, target]) {
      await ensure(http, R.crds, WIDGET_CRD);
      await waitEstablished(http, WIDGET_CRD.metadata.name);
    }
    volumes = await seedVolumes(source, compute, {
      ns,
      count: 2,
      csiProject: 'acme',
      clusterProject: SOURCE.project,
    });
    for (const v of volumes) await waitBound(source, v.pv, ns, v.claim);
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns, labels: { app: 'shop' } },
      data: { mode: 'production', replicas: '3' },
    });
    // A finalizer no controller of the drill cluster runs: without its release the drill
    // namespace would stay Terminating and the drill would fail with it left behind.
    await create(source, R.configmaps, {
      metadata: { name: 'guarded', namespace: ns, finalizers: ['example.lifeboat.dev/keep'] },
      data: { keep: 'yes' },
    });
    await create(source, R.secrets, {
      metadata: { name: 'db-password', namespace: ns },
      type: 'Opaque',
      stringData: { password: 'hunter2' },
    });
    await create(source, R.widgets, {
      apiVersion: 'example.lifeboat.dev/v1',
      kind: 'Widget',
      metadata: { name: 'gear', namespace: ns },
      spec: { size: 3, color: 'blue' },
    });
    ({ catalog } = await runBackup(
      {
        http: source,
        store,
        sealer,
        encryption,
        volumes: new DiskVolumeBackup(kubeConfigFor('source'), store, snapshotter),
      },
      {
        backupId: unique('drillable'),
        cluster: SOURCE,
        policy: policy({ snapshotVolumes: true, filters: { includeNamespaces: [ns] } }),
      },
    ));
    assert.equal(catalog.phase, 'Completed', JSON.stringify(catalog.errors));
    assert.equal(catalog.volumes.filter((v) => v.status === 'READY').length, 2);
  });

  after(async () => {
    await disks?.close();
    await snapshotter?.close();
    await compute?.stop();
  });

  it('passes a drill of a fresh backup with volume data, measures its RTO, and leaves nothing behind', async () => {
    const id = drillId();
    const seen: { namespaces: string[]; disks: string[]; bytes: string[] } = {
      namespaces: [],
      disks: [],
      bytes: [],
    };
    const disksBefore = compute.state.created.disks;
    const crdBefore = await get(target, R.crds, undefined, WIDGET_CRD.metadata.name);
    const report = await runDrill(
      deps({
        // What the drill made, looked at while it is there (between verification and cleanup).
        onProgress: (message) => {
          if (!message.endsWith('cleaning up')) return;
          seen.disks = drillDisks(id);
          seen.bytes = compute.state
            .allDisks()
            .filter((d) => seen.disks.includes(d.address.name))
            .map((d) => d.bytes.toString());
        },
      }),
      job(id),
    );
    assert.equal(report.verdict, 'passed', JSON.stringify(report, null, 1));
    assert.deepEqual(report.reasons, []);
    assert.equal(report.backupId, catalog.backupId, 'the latest Completed backup was drilled');
    assert.ok(report.rtoSeconds !== undefined && report.rtoSeconds > 0, 'an RTO was measured');
    assert.ok(report.verifiedAt && report.verifiedAt >= report.requestedAt);
    assert.deepEqual(report.namespaces, { [ns]: `drill-${id}-${ns}` });
    // Namespace, 2 PVCs, 2 ConfigMaps, Secret, Widget at least; the PVs are checked as volumes.
    assert.ok(report.objects.compared >= 7, JSON.stringify(report.objects));
    assert.equal(report.objects.equal, report.objects.compared);
    assert.deepEqual(
      report.volumes.map((v) => [v.claim, v.bound]).sort(),
      volumes.map((v) => [`drill-${id}-${ns}/${v.claim}`, true]).sort(),
    );
    // The disks were made from the snapshots (with the source disks' bytes), then deleted.
    assert.equal(seen.disks.length, 2, 'two disks were restored from the snapshots');
    assert.deepEqual(seen.bytes.sort(), volumes.map((v) => `the data of ${v.disk.name}`).sort());
    assert.equal(compute.state.created.disks - disksBefore, 2);
    assert.deepEqual(drillDisks(id), [], 'every disk the drill made is gone');
    assert.equal(report.cleanup.disksDeleted, 2);
    assert.ok(report.cleanup.objectsDeleted >= 3, 'its namespace and two PVs were deleted');
    assert.deepEqual(await drillNamespaces(id), [], 'every drill namespace is gone');
    assert.deepEqual(await labelled(id), [], 'nothing carrying the drill label is left');
    assert.deepEqual(report.leftBehind, []);
    // The target's own CRD: compared in place, not overwritten, not deleted.
    const crdAfter = await get(target, R.crds, undefined, WIDGET_CRD.metadata.name);
    assert.equal(crdAfter?.metadata['uid'], crdBefore?.metadata['uid']);
    // (An earlier restore in the same environment may have created it: its label, not the drill's.)
    assert.notEqual(crdAfter?.metadata.labels?.['lifeboat.dev/restore'], drillRestoreId(id));
    assert.ok(report.objects.comparedInPlace >= 1);
    // The report is beside the backup, and found by the drill's id.
    const key = Layout.drillReport(SOURCE, catalog.backupId, id);
    assert.ok(await store.exists(key));
    assert.deepEqual(await readDrillReport(store, id), report);
  });

  it('fails a drill of a backup missing a pack, says why, and leaves nothing behind', async () => {
    // A second backup with content of its own, so its ConfigMap pack is not shared with the first.
    await create(source, R.configmaps, {
      metadata: { name: unique('later'), namespace: ns },
      data: { added: 'after the first backup' },
    });
    const { catalog: broken } = await runBackup(
      {
        http: source,
        store,
        sealer,
        volumes: new DiskVolumeBackup(kubeConfigFor('source'), store, snapshotter),
      },
      {
        backupId: unique('broken'),
        cluster: SOURCE,
        policy: policy({ snapshotVolumes: true, filters: { includeNamespaces: [ns] } }),
      },
    );
    const pack = broken.packs.find((p) => p.resource.resource === 'configmaps');
    assert.ok(pack);
    assert.ok(!catalog.packs.some((p) => p.digest === pack.digest), 'the pack is its own');
    await store.delete(Layout.pack(pack.digest));
    const id = drillId();
    const disksBefore = compute.state.created.disks;
    const report: DrillReport = await runDrill(deps(), job(id, { backupId: broken.backupId }));
    assert.equal(report.verdict, 'failed');
    assert.match(report.reasons.join('\n'), new RegExp(`pack ${pack.digest}.*is missing`));
    assert.equal(report.rtoSeconds, undefined, 'a drill that did not verify has no RTO');
    assert.deepEqual(report.leftBehind, []);
    assert.deepEqual(await drillNamespaces(id), []);
    assert.deepEqual(await labelled(id), []);
    assert.deepEqual(drillDisks(id), []);
    assert.equal(compute.state.created.disks, disksBefore, 'no disk was made');
    assert.deepEqual(await readDrillReport(store, id), report);
  });

  it('fails a drill whose volume cannot be restored, after writing, and still leaves nothing behind', async () => {
    // One volume's snapshot is gone: its disk cannot be made, the rest of the backup restores.
    const lost = catalog.volumes.find((v) => v.snapshot)!;
    const deleted = await snapshotter.deleteSnapshot(lost.snapshot!, Deadline.after(10_000));
    assert.equal(deleted.status, 'DELETED');
    const id = drillId();
    const disksBefore = compute.state.created.disks;
    let written: string[] = [];
    const report = await runDrill(
      deps({
        onProgress: (message) => {
          if (message.endsWith('cleaning up')) written = drillDisks(id);
        },
      }),
      job(id, { backupId: catalog.backupId }),
    );
    assert.equal(report.verdict, 'failed');
    const reasons = report.reasons.join('\n');
    assert.match(reasons, new RegExp(`volume\\(s\\) not bound .*${lost.pvName}`));
    assert.ok(report.rtoSeconds !== undefined, 'it verified, and failed the verification');
    // It had written: a namespace, objects and the other volume's disk, all removed again.
    assert.equal(written.length, 1, 'the other volume got its disk');
    assert.equal(compute.state.created.disks - disksBefore, 1);
    assert.equal(report.cleanup.disksDeleted, 1);
    assert.ok(report.cleanup.objectsDeleted >= 2, 'its namespace and the other PV');
    assert.deepEqual(report.leftBehind, []);
    assert.deepEqual(await drillNamespaces(id), []);
    assert.deepEqual(await labelled(id), []);
    assert.deepEqual(drillDisks(id), []);
  });
});
