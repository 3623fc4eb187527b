import assert from 'node:assert/strict';
import { pdCsiVolume } from '../../../local/pd-volume.js';

describe('the local cloud’s PD CSI volume', function () {
  it('is a retained ReadWriteOnce ext4 volume pre-bound to its claim, 5Gi standard unless told', function () {
    assert.deepEqual(
      pdCsiVolume('pv-a', {
        volumeHandle: 'projects/acme/zones/europe-west1-b/disks/pv-a',
        claimRef: { namespace: 'ns', name: 'data' },
      }),
      {
        metadata: { name: 'pv-a' },
        spec: {
          capacity: { storage: '5Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: 'standard',
          claimRef: { namespace: 'ns', name: 'data' },
          csi: {
            driver: 'pd.csi.storage.gke.io',
            volumeHandle: 'projects/acme/zones/europe-west1-b/disks/pv-a',
            fsType: 'ext4',
          },
        },
      },
    );
  });

  it('takes a size, a class and a node affinity (a regional disk’s zones)', function () {
    const affinity = { required: { nodeSelectorTerms: [] } };
    const pv = pdCsiVolume('pv-r', {
      volumeHandle: 'projects/acme/regions/europe-west1/disks/pv-r',
      claimRef: { namespace: 'ns', name: 'shared' },
      storage: '10Gi',
      storageClassName: 'regional',
      nodeAffinity: affinity,
    }) as { spec: Record<string, unknown> };
    assert.deepEqual(pv.spec['capacity'], { storage: '10Gi' });
    assert.equal(pv.spec['storageClassName'], 'regional');
    assert.equal(pv.spec['nodeAffinity'], affinity);
  });
});
