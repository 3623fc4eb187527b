import { strict as assert } from 'node:assert';
import { DiskVolumeBackup } from '../../../shared/backup/backup-volume.js';
import { runBackup } from '../../../shared/backup/run-backup.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import { GceSnapshotter } from '../../../shared/disks/gce-snapshotter.js';
import { volumeSourceOf } from '../../../shared/disks/pv-disk.js';
import { DiskVolumeRestore, VOLUME_CONCURRENCY } from '../../../shared/restore/restore-volume.js';
import {
  runRestoreStep,
  type RestoreJob,
  type RestoreStep,
} from '../../../shared/restore/run-restore.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { Deadline } from '../../../shared/time/deadline.js';
import {
  gcsStore,
  policy,
  restoreOptions,
  sealerFor,
  SOURCE,
  TARGET,
} from '../../../local/backup-fixture.js';
import { kubeConfigFor, unique } from '../../../local/settings.js';
import { create, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { ComputeStandin } from '../../../local/standins/compute/server.js';
import { claimFor, csiZonalPv } from '../../unit/disks/pv-fixtures.js';

const VOLUMES = 12;

/** A fixture as a client creates it: what the API server assigns left out. */
function creatable<T extends { metadata?: object; status?: unknown }>(obj: T): object {
  const { status: _status, metadata, ...rest } = obj;
  const { uid: _uid, resourceVersion: _rv, ...meta } = (metadata ?? {}) as Record<string, unknown>;
  return { ...rest, metadata: meta };
}
/** Each restored disk stays CREATING this long: longer than a step gives its volumes. */
const DISK_CREATE_MS = 8_000;

/**
 * A backup of twelve PD CSI volumes (disks in the Compute stand-in, real
 * @google-cloud/compute client) restored through runRestoreStep with a
 * step deadline shorter than a disk takes to be READY: the volumes go in
 * parallel, hand over to the next step, are adopted there by name, and the
 * restore ends with one disk per volume; past the overall limit for
 * volumes a disk still CREATING fails its volume, and its PV and PVC are
 * not created.
 */
describe('restore: volumes in parallel, handed over at the step deadline', function () {
  this.timeout(240_000);
  let standin: ComputeStandin;
  let snapshotter: GceSnapshotter;
  let store: ObjectStore;
  let sealer: Sealer;
  let ns: string;
  const backupId = unique('vols');

  before(async () => {
    standin = await ComputeStandin.start();
    snapshotter = new GceSnapshotter({ client: standin.clientOptions(), pollIntervalMs: 50 });
    store = await gcsStore();
    let encryption;
    ({ sealer, encryption } = await sealerFor(store));
    const source = kubeHttp('source');
    ns = unique('vols');
    await create(source, R.namespaces, { metadata: { name: ns } });
    for (let i = 0; i < VOLUMES; i++) {
      const pv = csiZonalPv(unique(`pvc-${i}`), { namespace: ns, name: `data-${i}` });
      const disk = volumeSourceOf(pv, 'prod-project');
      assert.equal(disk.kind, 'gce-pd');
      if (disk.kind === 'gce-pd') standin.seedDisk({ ...disk.disk, sizeGb: 10 });
      await create(source, R.pvs, creatable(pv));
      await create(source, R.pvcs, creatable(claimFor(pv)));
    }
    const { catalog } = await runBackup(
      {
        http: source,
        store,
        sealer,
        encryption,
        volumes: new DiskVolumeBackup(kubeConfigFor('source'), store, snapshotter),
      },
      {
        backupId,
        cluster: SOURCE,
        policy: policy({ snapshotVolumes: true, filters: { includeNamespaces: [ns] } }),
      },
    );
    assert.equal(catalog.phase, 'Completed', JSON.stringify(catalog.errors));
    assert.equal(catalog.volumes.length, VOLUMES);
    assert.ok(catalog.volumes.every((v) => v.status === 'READY'));
  });
  after(async () => {
    await snapshotter.close();
    await standin.stop();
  });

  const restoreJob = (mapped: string): RestoreJob => ({
    restoreId: unique('r'),
    source: SOURCE,
    backupId,
    target: TARGET,
    options: restoreOptions({
      includeNamespaces: [ns],
      namespaceMapping: { [ns]: mapped },
      zoneMapping: { 'us-central1-a': 'europe-west1-b' },
    }),
  });

  /** Disks restores made (restoredDiskNameFor), READY or not. */
  const restoredDisks = (): number =>
    standin.state.allDisks().filter((d) => d.address.name.startsWith('lbr-')).length;

  it('restores every volume across steps, one disk each, and creates their claims', async () => {
    standin.state.faults.diskCreateMs = DISK_CREATE_MS;
    const mapped = unique('restored');
    const job = restoreJob(mapped);
    const volumes = new DiskVolumeRestore(kubeConfigFor('target'), snapshotter);
    const before = restoredDisks();
    const createdBefore = standin.state.created.disks;
    const steps: RestoreStep[] = [];
    let disksAfterFirst = 0;
    try {
      for (;;) {
        const step = await runRestoreStep(
          { http: kubeHttp('target'), store, sealer, volumes },
          job,
          Deadline.after(1_000),
        );
        steps.push(step);
        if (steps.length === 1) disksAfterFirst = restoredDisks() - before;
        if (step.status === 'done') break;
        assert.ok(steps.length < 20, 'the restore does not finish');
      }
    } finally {
      delete standin.state.faults.diskCreateMs;
    }
    const final = steps.at(-1)!;
    assert.equal(final.status, 'done');
    if (final.status !== 'done') return;
    console.log(`      ${steps.length} steps; ${disksAfterFirst} disks begun by the first step`);
    // Handed over: the first step ended with its volumes still CREATING, all begun at once.
    assert.equal(steps[0]!.status, 'continue');
    assert.ok(steps.length >= 2);
    assert.equal(disksAfterFirst, VOLUME_CONCURRENCY);
    const { report } = final;
    assert.equal(report.volumes.length, VOLUMES, JSON.stringify(report.volumes));
    for (const v of report.volumes) assert.equal(v.outcome, 'restore-from-snapshot', v.reason);
    assert.equal(report.counts.failed, 0, JSON.stringify(report.outcomes));
    // One disk per volume, whatever the hand-overs: the later steps adopted what the first began.
    assert.equal(standin.state.created.disks - createdBefore, VOLUMES);
    const claims = await list(kubeHttp('target'), R.pvcs, mapped);
    assert.equal(claims.length, VOLUMES);
    const pvs = (await list(kubeHttp('target'), R.pvs)).filter((pv) =>
      claims.some((c) => (c['spec'] as { volumeName?: string }).volumeName === pv.metadata.name),
    );
    assert.equal(pvs.length, VOLUMES);
    // Each bound PV points at the disk the report records for its volume, in the mapped zone.
    const handles = pvs
      .map((pv) => (pv['spec'] as { csi?: { volumeHandle?: string } }).csi?.volumeHandle ?? '')
      .sort();
    assert.deepEqual(handles, report.volumes.map((v) => v.disk ?? '').sort());
    for (const handle of handles) assert.match(handle, /zones\/europe-west1-b\/disks\/lbr-/);
  });

  it('fails a volume whose disk is not READY within the overall limit, and creates neither PV nor claim', async () => {
    standin.state.faults.diskCreateMs = 600_000;
    const mapped = unique('late');
    const job = restoreJob(mapped);
    const volumes = new DiskVolumeRestore(kubeConfigFor('target'), snapshotter, 2_000);
    let step: RestoreStep;
    try {
      let n = 0;
      do {
        step = await runRestoreStep(
          { http: kubeHttp('target'), store, sealer, volumes },
          job,
          Deadline.after(500),
        );
        assert.ok(++n < 20, 'the restore does not finish');
      } while (step.status === 'continue');
    } finally {
      delete standin.state.faults.diskCreateMs;
    }
    const { report } = step;
    assert.equal(report.volumes.length, VOLUMES);
    for (const v of report.volumes) {
      assert.equal(v.outcome, 'failed');
      assert.match(v.reason ?? '', /not done within the restore's 2s for volumes/);
    }
    // Those begun waited for their disk until the limit; the others were never begun.
    const waited = report.volumes.filter((v) => /still CREATING/.test(v.reason ?? ''));
    assert.equal(waited.length, VOLUME_CONCURRENCY, JSON.stringify(report.volumes));
    const dropped = report.outcomes.filter(
      (o: { kind: string }) => o.kind === 'PersistentVolumeClaim' || o.kind === 'PersistentVolume',
    );
    assert.equal(dropped.length, 2 * VOLUMES);
    for (const o of dropped) {
      assert.equal(o.outcome, 'failed');
      assert.match(o.reason ?? '', /its volume data could not be restored/);
    }
    assert.equal((await list(kubeHttp('target'), R.pvcs, mapped)).length, 0);
  });
});
