import { strict as assert } from 'node:assert';
import {
  reusePersistentVolume,
  rewritePersistentVolume,
  rewritePersistentVolumeClaim,
} from '../../../shared/disks/pv-rewrite.js';
import { claimFor, csiRegionalPv, csiZonalPv, inTreePv } from './pv-fixtures.js';

describe('PersistentVolume rewrite for a restored disk', () => {
  it('points a CSI PV at the new zonal disk, moves its zone affinity and keeps other constraints', () => {
    const source = csiZonalPv('pvc-a');
    const pv = rewritePersistentVolume(
      source,
      { project: 'dr-project', zone: 'europe-west1-b', name: 'lbr-r1-pvc-a-12345678' },
      { namespace: 'shop-restored', name: 'data-mysql-0' },
    );
    assert.equal(
      pv.spec?.csi?.volumeHandle,
      'projects/dr-project/zones/europe-west1-b/disks/lbr-r1-pvc-a-12345678',
    );
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms, [
      {
        matchExpressions: [
          { key: 'cloud.google.com/gke-nodepool', operator: 'In', values: ['db-pool'] },
          { key: 'topology.gke.io/zone', operator: 'In', values: ['europe-west1-b'] },
        ],
      },
    ]);
    assert.deepEqual(pv.spec?.claimRef, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      namespace: 'shop-restored',
      name: 'data-mysql-0',
    });
    assert.equal(pv.metadata?.uid, undefined);
    assert.equal(pv.metadata?.resourceVersion, undefined);
    assert.equal(pv.status, undefined);
    assert.deepEqual(pv.metadata?.finalizers, ['kubernetes.io/pv-protection']);
    // The input is not modified.
    assert.equal(
      source.spec?.csi?.volumeHandle,
      'projects/prod-project/zones/us-central1-a/disks/pvc-a',
    );
  });

  it('clears only uid and resourceVersion of the claimRef when no new claim is named', () => {
    const pv = rewritePersistentVolume(csiZonalPv('pvc-a'), {
      project: 'p',
      zone: 'us-east1-c',
      name: 'd',
    });
    assert.deepEqual(pv.spec?.claimRef, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      namespace: 'shop',
      name: 'data-mysql-0',
    });
  });

  it('points a regional CSI PV at a regional disk in both replica zones', () => {
    const pv = rewritePersistentVolume(csiRegionalPv('pvc-r'), {
      project: 'dr-project',
      region: 'europe-west4',
      replicaZones: ['europe-west4-a', 'europe-west4-b'],
      name: 'lbr-r',
    });
    assert.equal(
      pv.spec?.csi?.volumeHandle,
      'projects/dr-project/regions/europe-west4/disks/lbr-r',
    );
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions, [
      { key: 'topology.gke.io/zone', operator: 'In', values: ['europe-west4-a', 'europe-west4-b'] },
    ]);
  });

  it('rewrites an in-tree PV: pdName, both generations of zone and region labels, and affinity', () => {
    const pv = rewritePersistentVolume(inTreePv(), {
      project: 'p',
      zone: 'us-east1-c',
      name: 'lbr-legacy',
    });
    assert.equal(pv.spec?.gcePersistentDisk?.pdName, 'lbr-legacy');
    assert.deepEqual(pv.metadata?.labels, {
      'topology.kubernetes.io/zone': 'us-east1-c',
      'topology.kubernetes.io/region': 'us-east1',
      'failure-domain.beta.kubernetes.io/zone': 'us-east1-c',
      'failure-domain.beta.kubernetes.io/region': 'us-east1',
    });
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms, [
      {
        matchExpressions: [
          { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east1-c'] },
        ],
      },
    ]);
  });

  it('writes a regional in-tree PV zone label as a "__" list', () => {
    const pv = rewritePersistentVolume(inTreePv(), {
      project: 'p',
      region: 'us-east1',
      replicaZones: ['us-east1-b', 'us-east1-c'],
      name: 'lbr-legacy',
    });
    assert.equal(pv.metadata?.labels?.['topology.kubernetes.io/zone'], 'us-east1-b__us-east1-c');
    assert.equal(pv.metadata?.labels?.['topology.kubernetes.io/region'], 'us-east1');
  });

  it('refuses a PV that is neither CSI nor in-tree', () => {
    assert.throws(
      () =>
        rewritePersistentVolume(
          { metadata: { name: 'nfs' }, spec: { nfs: { server: 's', path: '/' } } },
          { project: 'p', zone: 'us-east1-b', name: 'd' },
        ),
      /neither a CSI nor an in-tree disk volume/,
    );
  });

  it('reuses a volume handle with reclaim policy Retain, so the source disk is never deleted', () => {
    const pv = reusePersistentVolume(csiZonalPv('pvc-a'), {
      namespace: 'shop',
      name: 'data-mysql-0',
    });
    assert.equal(
      pv.spec?.csi?.volumeHandle,
      'projects/prod-project/zones/us-central1-a/disks/pvc-a',
    );
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, 'Retain');
    assert.equal(pv.spec?.claimRef?.uid, undefined);
  });
});

describe('PersistentVolumeClaim rewrite', () => {
  const pvc = claimFor(csiZonalPv('pvc-a'));

  it('pre-binds the claim to the restored PV in the mapped namespace, without the binder annotations', () => {
    const out = rewritePersistentVolumeClaim(pvc, { namespace: 'shop-dr', volumeName: 'pvc-a' });
    assert.equal(out.metadata?.namespace, 'shop-dr');
    assert.equal(out.spec?.volumeName, 'pvc-a');
    assert.deepEqual(out.metadata?.annotations, {
      'volume.beta.kubernetes.io/storage-provisioner': 'pd.csi.storage.gke.io',
    });
    assert.equal(out.metadata?.uid, undefined);
    assert.equal(out.status, undefined);
  });

  it('asks for a new volume when no PV is named, optionally from a data source', () => {
    const fresh = rewritePersistentVolumeClaim(pvc, {});
    assert.equal(fresh.spec?.volumeName, undefined);
    const fromSnapshot = rewritePersistentVolumeClaim(pvc, {
      dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'vs' },
    });
    assert.deepEqual(fromSnapshot.spec?.dataSource, {
      apiGroup: 'snapshot.storage.k8s.io',
      kind: 'VolumeSnapshot',
      name: 'vs',
    });
    assert.equal(fromSnapshot.spec?.volumeName, undefined);
  });
});
