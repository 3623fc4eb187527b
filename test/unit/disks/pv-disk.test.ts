import { strict as assert } from 'node:assert';
import type { V1PersistentVolume } from '@kubernetes/client-node';
import { affinityZones, volumeSourceOf } from '../../../shared/disks/pv-disk.js';
import { csiRegionalPv, csiZonalPv, inTreePv } from './pv-fixtures.js';

describe('PersistentVolume -> disk', () => {
  it('reads a zonal pd.csi.storage.gke.io volume handle', () => {
    assert.deepEqual(volumeSourceOf(csiZonalPv('pvc-a'), 'cluster-project'), {
      kind: 'gce-pd',
      driver: 'pd.csi.storage.gke.io',
      disk: { project: 'prod-project', zone: 'us-central1-a', name: 'pvc-a' },
    });
  });

  it('reads a regional handle with its replica zones from the node affinity', () => {
    assert.deepEqual(volumeSourceOf(csiRegionalPv('pvc-r'), 'cluster-project'), {
      kind: 'gce-pd',
      driver: 'pd.csi.storage.gke.io',
      disk: {
        project: 'prod-project',
        region: 'us-central1',
        name: 'pvc-r',
        replicaZones: ['us-central1-a', 'us-central1-f'],
      },
    });
  });

  it('takes the cluster project for a handle that says UNSPECIFIED', () => {
    const pv = csiZonalPv('pvc-u');
    if (pv.spec?.csi)
      pv.spec.csi.volumeHandle = 'projects/UNSPECIFIED/zones/us-east1-b/disks/static-disk';
    const source = volumeSourceOf(pv, 'cluster-project');
    assert.equal(source.kind, 'gce-pd');
    assert.deepEqual(source.kind === 'gce-pd' && source.disk, {
      project: 'cluster-project',
      zone: 'us-east1-b',
      name: 'static-disk',
    });
  });

  it('reads an in-tree gcePersistentDisk with the zone from its labels and the cluster project', () => {
    assert.deepEqual(volumeSourceOf(inTreePv(), 'cluster-project'), {
      kind: 'gce-pd',
      driver: 'kubernetes.io/gce-pd',
      disk: { project: 'cluster-project', zone: 'us-central1-b', name: 'legacy-wordpress-disk' },
    });
  });

  it('reads the beta zone label of an old in-tree PV', () => {
    const pv = inTreePv();
    pv.metadata = {
      name: 'old',
      labels: { 'failure-domain.beta.kubernetes.io/zone': 'europe-west1-d' },
    };
    const source = volumeSourceOf(pv, 'p');
    assert.deepEqual(source.kind === 'gce-pd' && source.disk.zone, 'europe-west1-d');
  });

  it('reads a regional in-tree PV from a "__"-separated zone label', () => {
    const pv = inTreePv();
    pv.metadata = {
      name: 'regional',
      labels: { 'topology.kubernetes.io/zone': 'us-central1-a__us-central1-c' },
    };
    const source = volumeSourceOf(pv, 'p');
    assert.deepEqual(source.kind === 'gce-pd' && source.disk, {
      project: 'p',
      name: 'legacy-wordpress-disk',
      region: 'us-central1',
      replicaZones: ['us-central1-a', 'us-central1-c'],
    });
  });

  it('falls back to the node affinity of an in-tree PV without zone labels', () => {
    const pv = inTreePv();
    pv.metadata = { name: 'unlabelled' };
    const source = volumeSourceOf(pv, 'p');
    assert.deepEqual(source.kind === 'gce-pd' && source.disk.zone, 'us-central1-b');
  });

  it('does not snapshot an in-tree PV whose zone it cannot tell, and says why', () => {
    const pv = inTreePv();
    pv.metadata = { name: 'nowhere' };
    delete pv.spec?.nodeAffinity;
    const source = volumeSourceOf(pv, 'p');
    assert.equal(source.kind, 'none');
    assert.match(
      source.kind === 'none' ? source.reason : '',
      /no zone label and no zone node affinity/,
    );
  });

  it('hands volumes of other CSI drivers to the CSI path', () => {
    const pv = csiZonalPv();
    if (pv.spec?.csi) {
      pv.spec.csi.driver = 'filestore.csi.storage.gke.io';
      pv.spec.csi.volumeHandle = 'modeInstance/us-central1-a/fs-1/vol1';
    }
    assert.deepEqual(volumeSourceOf(pv, 'p'), {
      kind: 'csi',
      driver: 'filestore.csi.storage.gke.io',
      volumeHandle: 'modeInstance/us-central1-a/fs-1/vol1',
    });
  });

  it('records an NFS volume and an unreadable PD handle as not snapshotted, with the reason', () => {
    const nfs: V1PersistentVolume = {
      metadata: { name: 'nfs' },
      spec: { nfs: { server: '10.0.0.2', path: '/export' } },
    };
    const source = volumeSourceOf(nfs, 'p');
    assert.deepEqual(source, {
      kind: 'none',
      driver: 'nfs',
      reason: 'a nfs volume is not a Compute Engine disk and has no CSI driver to snapshot it',
    });
    const odd = csiZonalPv();
    if (odd.spec?.csi) odd.spec.csi.volumeHandle = 'not-a-handle';
    const oddSource = volumeSourceOf(odd, 'p');
    assert.match(
      oddSource.kind === 'none' ? oddSource.reason : '',
      /unrecognised pd.csi.storage.gke.io volume handle "not-a-handle"/,
    );
  });

  it('reads zones only from In expressions on zone keys', () => {
    const pv = csiZonalPv();
    pv.spec = {
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'topology.gke.io/zone', operator: 'NotIn', values: ['us-central1-c'] },
              ],
            },
            {
              matchExpressions: [
                { key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] },
              ],
            },
          ],
        },
      },
    };
    assert.deepEqual(affinityZones(pv), []);
  });
});
