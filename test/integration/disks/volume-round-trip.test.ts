import { strict as assert } from 'node:assert';
import { CoreV1Api, type V1PersistentVolume } from '@kubernetes/client-node';
import { Deadline } from '../../../shared/time/deadline.js';
import { GceSnapshotter } from '../../../shared/disks/gce-snapshotter.js';
import { volumeSourceOf } from '../../../shared/disks/pv-disk.js';
import { captureVolume } from '../../../shared/backup/capture-volume.js';
import {
  provisionVolume,
  type VolumeProvisionRequest,
} from '../../../shared/restore/provision-volume.js';
import { kubeConfigFor, unique } from '../../../local/settings.js';
import { ComputeStandin } from '../../../local/standins/compute/server.js';
import { claimFor, csiRegionalPv, csiZonalPv, inTreePv } from '../../unit/disks/pv-fixtures.js';

/**
 * A zonal CSI, a regional CSI and an in-tree PV each go through a backup
 * (real @google-cloud/compute client, Compute Engine stand-in), come back as
 * a disk in another zone with the original bytes, and the rewritten PV and
 * PVC bind on the real target API server. With no controller-manager there,
 * the test plays the binder: the pair is created pre-bound (PV claimRef ->
 * PVC, PVC volumeName -> PV) and the target's PV controller binds them.
 */
describe('volume round trip: snapshot, disk in another zone, PV/PVC bound on the target', () => {
  let standin: ComputeStandin;
  let snapshotter: GceSnapshotter;
  let core: CoreV1Api;
  const cluster = { project: 'prod-project', location: 'us-central1', name: 'shop' };

  before(async () => {
    core = kubeConfigFor('target').makeApiClient(CoreV1Api);
    standin = await ComputeStandin.start();
    snapshotter = new GceSnapshotter({ client: standin.clientOptions(), pollIntervalMs: 5 });
  });
  after(async () => {
    await snapshotter.close();
    await standin.stop();
  });

  const cases: {
    title: string;
    pv: () => V1PersistentVolume;
    zoneMapping: Record<string, string>;
  }[] = [
    {
      title: 'a zonal pd.csi.storage.gke.io PV',
      pv: () => csiZonalPv(unique('pvc-zonal')),
      zoneMapping: { 'us-central1-a': 'europe-west1-b' },
    },
    {
      title: 'a regional pd.csi.storage.gke.io PV',
      pv: () => csiRegionalPv(unique('pvc-regional')),
      zoneMapping: { 'us-central1-a': 'europe-west4-a', 'us-central1-f': 'europe-west4-c' },
    },
    {
      title: 'an in-tree gcePersistentDisk PV',
      pv: () => inTreePv(unique('pv-legacy')),
      zoneMapping: { 'us-central1-b': 'us-east1-c' },
    },
  ];

  for (const c of cases) {
    it(`round-trips ${c.title} into a different zone, binds it, and makes one disk under redelivery`, async () => {
      const pv = c.pv();
      const source = volumeSourceOf(pv, cluster.project);
      assert.equal(source.kind, 'gce-pd');
      if (source.kind !== 'gce-pd') return;
      const original = Buffer.from(`${c.title}: rows 1..1000 as of the backup`);
      standin.seedDisk({ ...source.disk, sizeGb: 30, type: 'pd-ssd', bytes: original });

      // Backup: one volume, one unit of work.
      const backedUp = await captureVolume(
        { backupId: unique('b'), cluster, pv, pvc: claimFor(pv), deadline: Deadline.after(10_000) },
        { disks: snapshotter },
      );
      assert.equal(backedUp.entry.status, 'READY', backedUp.entry.reason);
      // The workload writes on after the snapshot: the restore must bring back the snapshot's bytes.
      standin.writeDisk(source.disk, Buffer.from('written after the backup'));

      const targetNs = unique('restored');
      await core.createNamespace({ body: { metadata: { name: targetNs } } });
      const request: VolumeProvisionRequest = {
        restoreId: unique('r'),
        entry: backedUp.entry,
        pv: { ...pv, metadata: { ...pv.metadata, name: unique('pv-restored') } },
        pvc: claimFor(pv),
        policy: 'restore-from-snapshot',
        zoneMapping: c.zoneMapping,
        targetProject: 'dr-project',
        targetNamespace: targetNs,
        deadline: Deadline.after(10_000),
      };
      const disksBefore = standin.state.created.disks;
      const restored = await provisionVolume(request, { disks: snapshotter });
      assert.deepEqual(restored.errors, []);
      const disk = restored.disk;
      assert.ok(disk && restored.pv && restored.pvc);

      // The new disk: another zone, the target project, the original type and size, the snapshot's bytes.
      const expectedZones = (
        source.disk.zone ? [source.disk.zone] : (source.disk.replicaZones ?? [])
      ).map((z) => c.zoneMapping[z]);
      assert.deepEqual(disk.zone ? [disk.zone] : disk.replicaZones, expectedZones);
      assert.equal(disk.project, 'dr-project');
      assert.equal(disk.type, 'pd-ssd');
      assert.equal(disk.sizeGb, 30);
      assert.deepEqual(standin.readDisk(disk), original);
      assert.equal(standin.state.created.disks, disksBefore + 1);

      // The rewritten pair on the real target API server.
      const pvName = restored.pv.metadata?.name ?? '';
      const createdPv = await core.createPersistentVolume({ body: restored.pv });
      const createdPvc = await core.createNamespacedPersistentVolumeClaim({
        namespace: targetNs,
        body: restored.pvc,
      });
      assert.equal(createdPvc.spec?.volumeName, pvName);
      assert.deepEqual(
        { namespace: createdPv.spec?.claimRef?.namespace, name: createdPv.spec?.claimRef?.name },
        { namespace: targetNs, name: createdPvc.metadata?.name },
      );
      const zoneKey =
        source.driver === 'pd.csi.storage.gke.io'
          ? 'topology.gke.io/zone'
          : 'topology.kubernetes.io/zone';
      const zoneTerm =
        createdPv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.find(
          (e) => e.key === zoneKey,
        );
      assert.deepEqual(zoneTerm?.values, expectedZones);
      if (source.driver === 'pd.csi.storage.gke.io') {
        const scope = disk.zone ? `zones/${disk.zone}` : `regions/${disk.region ?? ''}`;
        assert.equal(
          createdPv.spec?.csi?.volumeHandle,
          `projects/dr-project/${scope}/disks/${disk.name}`,
        );
      } else {
        assert.equal(createdPv.spec?.gcePersistentDisk?.pdName, disk.name);
        assert.equal(
          createdPv.metadata?.labels?.['topology.kubernetes.io/zone'],
          expectedZones.join('__'),
        );
      }

      // The target's PV controller binds this pre-bound pair.
      await bind(core, pvName, targetNs, createdPvc.metadata?.name ?? '');
      const boundPv = await core.readPersistentVolume({ name: pvName });
      const boundPvc = await core.readNamespacedPersistentVolumeClaim({
        namespace: targetNs,
        name: createdPvc.metadata?.name ?? '',
      });
      assert.equal(boundPv.status?.phase, 'Bound');
      assert.equal(boundPvc.status?.phase, 'Bound');
      assert.equal(boundPv.spec?.claimRef?.uid, boundPvc.metadata?.uid);
      assert.equal(boundPvc.spec?.volumeName, pvName);

      // Redelivery of the same restore: the same disk, adopted, and no second one.
      // (A delivery of its own, with its own deadline: the binder above took its time.)
      const again = await provisionVolume(
        { ...request, deadline: Deadline.after(10_000) },
        { disks: snapshotter },
      );
      assert.deepEqual(again.disk, disk);
      assert.equal(standin.state.created.disks, disksBefore + 1, 'one disk for two deliveries');
    });
  }

  it('makes one disk when two restore deliveries race (409 -> adopt)', async () => {
    const pv = csiZonalPv(unique('pvc-race'));
    const source = volumeSourceOf(pv, cluster.project);
    if (source.kind !== 'gce-pd') throw new Error('expected a PD');
    standin.seedDisk({ ...source.disk, bytes: Buffer.from('race') });
    const backedUp = await captureVolume(
      { backupId: unique('b'), cluster, pv, deadline: Deadline.after(10_000) },
      { disks: snapshotter },
    );
    assert.equal(backedUp.entry.status, 'READY');
    const request: VolumeProvisionRequest = {
      restoreId: unique('r'),
      entry: backedUp.entry,
      pv,
      pvc: claimFor(pv),
      policy: 'restore-from-snapshot',
      zoneMapping: { 'us-central1-a': 'us-central1-c' },
      deadline: Deadline.after(10_000),
    };
    const before = standin.state.created.disks;
    const inserts = standin.callCount('disks.insert');
    const gate = standin.hold('disks.insert');
    const both = Promise.all([
      provisionVolume(request, { disks: snapshotter }),
      provisionVolume(request, { disks: snapshotter }),
    ]);
    await gate.arrived(2);
    gate.release();
    const [a, b] = await both;
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
    assert.deepEqual(a.disk, b.disk);
    assert.equal(standin.callCount('disks.insert') - inserts, 2, 'both deliveries tried');
    assert.equal(standin.state.created.disks - before, 1, 'one disk');
  });

  it('fails the restore with the reason when the regional quota has no room', async () => {
    const pv = csiZonalPv(unique('pvc-quota'));
    const source = volumeSourceOf(pv, cluster.project);
    if (source.kind !== 'gce-pd') throw new Error('expected a PD');
    standin.seedDisk({ ...source.disk, type: 'pd-ssd', sizeGb: 100, bytes: Buffer.from('q') });
    const backedUp = await captureVolume(
      { backupId: unique('b'), cluster, pv, deadline: Deadline.after(10_000) },
      { disks: snapshotter },
    );
    standin.setFaults({ diskQuotaExhausted: true });
    try {
      const result = await provisionVolume(
        {
          restoreId: unique('r'),
          entry: backedUp.entry,
          pv,
          pvc: claimFor(pv),
          policy: 'restore-from-snapshot',
          targetProject: 'dr-project',
          deadline: Deadline.after(10_000),
        },
        { disks: snapshotter },
      );
      assert.equal(result.pvc, undefined);
      assert.match(
        result.errors[0] ?? '',
        /quota SSD_TOTAL_GB exceeded in region us-central1 of project dr-project/,
      );
    } finally {
      standin.clearFaults();
    }
  });

  it('marks the backup PartiallyFailed, never Completed, when one of its snapshots fails', async () => {
    const good = csiZonalPv(unique('pvc-good'));
    const bad = csiZonalPv(unique('pvc-bad'));
    // Only the good PV's disk exists: the other one was deleted behind the cluster's back.
    const goodSource = volumeSourceOf(good, cluster.project);
    if (goodSource.kind !== 'gce-pd') throw new Error('expected a PD');
    standin.seedDisk({ ...goodSource.disk, bytes: Buffer.from('ok') });
    const backupId = unique('b');
    const results = await Promise.all(
      [good, bad].map((pv) =>
        captureVolume(
          { backupId, cluster, pv, deadline: Deadline.after(10_000) },
          { disks: snapshotter },
        ),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.entry.status),
      ['READY', 'FAILED'],
    );
    assert.match(results[1]?.entry.reason ?? '', /the disk does not exist/);
  });
});

/**
 * Waits for the target's PV controller (the local clusters run one) to bind
 * the pre-bound pair: claimRef given the claim's uid, both phases Bound.
 */
async function bind(
  core: CoreV1Api,
  pvName: string,
  namespace: string,
  claimName: string,
): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const claim = await core.readNamespacedPersistentVolumeClaim({ namespace, name: claimName });
    const pv = await core.readPersistentVolume({ name: pvName });
    if (pv.status?.phase === 'Bound' && claim.status?.phase === 'Bound') return;
    if (Date.now() > deadline)
      throw new Error(
        `the PV controller did not bind ${pvName} and ${namespace}/${claimName} (${pv.status?.phase}, ${claim.status?.phase})`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
