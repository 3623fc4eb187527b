import { strict as assert } from 'node:assert';
import type { VolumeEntry } from '../../../shared/catalog/catalog-schema.js';
import { Deadline } from '../../../shared/time/deadline.js';
import {
  provisionVolume,
  type VolumeProvisionRequest,
} from '../../../shared/restore/provision-volume.js';
import { FakeSnapshotter } from '../disks/fake-snapshotter.js';
import { claimFor, csiZonalPv } from '../disks/pv-fixtures.js';

describe('provisionVolume under each volume data policy', () => {
  const pv = csiZonalPv('pvc-a');
  const entry: VolumeEntry = {
    pvName: 'pvc-a',
    pvcNamespace: 'shop',
    pvcName: 'data-mysql-0',
    driver: 'pd.csi.storage.gke.io',
    disk: {
      project: 'prod-project',
      zone: 'us-central1-a',
      name: 'pvc-a',
      type: 'pd-ssd',
      sizeGb: 20,
    },
    snapshot: { project: 'prod-project', name: 'lb-b1-pvc-a-1234abcd' },
    status: 'READY',
  };
  const request = (overrides: Partial<VolumeProvisionRequest> = {}): VolumeProvisionRequest => ({
    restoreId: 'r1',
    entry,
    pv,
    pvc: claimFor(pv),
    policy: 'restore-from-snapshot',
    zoneMapping: { 'us-central1-a': 'europe-west1-b' },
    targetProject: 'dr-project',
    targetNamespace: 'shop-dr',
    deadline: Deadline.after(5000),
    ...overrides,
  });

  it('restore-from-snapshot: a disk in the mapped zone and target project, and a pre-bound PV/PVC pair', async () => {
    const disks = new FakeSnapshotter();
    const result = await provisionVolume(request(), { disks });
    assert.deepEqual(result.errors, []);
    const sent = disks.restoreRequests[0];
    assert.deepEqual(sent?.target, { project: 'dr-project', zone: 'europe-west1-b' });
    assert.deepEqual(sent?.snapshot, { project: 'prod-project', name: 'lb-b1-pvc-a-1234abcd' });
    assert.equal(sent?.source.type, 'pd-ssd');
    assert.match(
      result.pv?.spec?.csi?.volumeHandle ?? '',
      /^projects\/dr-project\/zones\/europe-west1-b\/disks\/lbr-r1-pvc-a-/,
    );
    assert.deepEqual(result.pv?.spec?.claimRef, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      namespace: 'shop-dr',
      name: 'data-mysql-0',
    });
    // The PV takes the new disk's name, and the claim binds to it.
    assert.match(result.pv?.metadata?.name ?? '', /^lbr-r1-pvc-a-/);
    assert.equal(result.pvc?.spec?.volumeName, result.pv?.metadata?.name);
    assert.equal(result.pvc?.metadata?.namespace, 'shop-dr');
  });

  it('reuse-volume-handle: the original handle, Retain, no new disk', async () => {
    const disks = new FakeSnapshotter();
    const result = await provisionVolume(request({ policy: 'reuse-volume-handle' }), { disks });
    assert.equal(disks.restoreRequests.length, 0);
    assert.equal(
      result.pv?.spec?.csi?.volumeHandle,
      'projects/prod-project/zones/us-central1-a/disks/pvc-a',
    );
    assert.equal(result.pv?.spec?.persistentVolumeReclaimPolicy, 'Retain');
    assert.equal(result.pvc?.spec?.volumeName, 'pvc-a');
  });

  it('no-volume-data: only a claim that asks for a new volume', async () => {
    const disks = new FakeSnapshotter();
    const result = await provisionVolume(request({ policy: 'no-volume-data' }), { disks });
    assert.equal(result.pv, undefined);
    assert.equal(result.pvc?.spec?.volumeName, undefined);
    assert.equal(disks.restoreRequests.length, 0);
  });

  it('restores nothing for a volume whose snapshot FAILED, and says why', async () => {
    const result = await provisionVolume(
      request({ entry: { ...entry, status: 'FAILED', reason: 'still CREATING after 9m' } }),
      {
        disks: new FakeSnapshotter(),
      },
    );
    assert.equal(result.pvc, undefined);
    assert.deepEqual(result.errors, [
      'volume pvc-a: no usable snapshot (FAILED: still CREATING after 9m)',
    ]);
  });

  it('restores the PV of a NOT_SNAPSHOTTED volume as it was, with a warning', async () => {
    const result = await provisionVolume(
      request({ entry: { ...entry, status: 'NOT_SNAPSHOTTED', reason: 'a nfs volume' } }),
      {
        disks: new FakeSnapshotter(),
      },
    );
    assert.ok(result.pv);
    assert.match(result.warnings[0] ?? '', /was not snapshotted \(a nfs volume\)/);
  });

  it('reports a failed disk restore and a zone mapping that splits a regional disk', async () => {
    const disks = new FakeSnapshotter();
    disks.failWith = 'quota SSD_TOTAL_GB exceeded';
    const failed = await provisionVolume(request(), { disks });
    assert.deepEqual(failed.errors, ['volume pvc-a: quota SSD_TOTAL_GB exceeded']);
    assert.equal(failed.pvc, undefined);
    const regional = {
      ...entry,
      disk: {
        project: 'p',
        region: 'us-central1',
        replicaZones: ['us-central1-a', 'us-central1-b'],
        name: 'r',
      },
    };
    const split = await provisionVolume(
      request({ entry: regional, zoneMapping: { 'us-central1-a': 'europe-west1-b' } }),
      {
        disks: new FakeSnapshotter(),
      },
    );
    assert.match(split.errors[0] ?? '', /splits replica zones across regions/);
  });
});
