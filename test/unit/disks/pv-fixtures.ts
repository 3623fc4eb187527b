import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';

/**
 * PersistentVolumes and claims as GKE writes them (and as a backup exports
 * them): a zonal and a regional PD CSI volume, and an in-tree
 * gcePersistentDisk one. Shared by the unit and integration tests of disks.
 */

export function csiZonalPv(
  name = 'pvc-6b1f0c52-1b9e-4f7e-9a51-0d3c1a2b3c4d',
  claim = { namespace: 'shop', name: 'data-mysql-0' },
): V1PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      uid: '0f9c2a86-5a3c-4d8e-8a1b-2c3d4e5f6a7b',
      resourceVersion: '48213',
      annotations: { 'pv.kubernetes.io/provisioned-by': 'pd.csi.storage.gke.io' },
      finalizers: ['kubernetes.io/pv-protection', 'external-attacher/pd-csi-storage-gke-io'],
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '20Gi' },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.namespace,
        name: claim.name,
        uid: '7d1e5b0c-2f1a-4c3b-9d8e-1a2b3c4d5e6f',
        resourceVersion: '48190',
      },
      csi: {
        driver: 'pd.csi.storage.gke.io',
        fsType: 'ext4',
        volumeAttributes: {
          'storage.kubernetes.io/csiProvisionerIdentity':
            '1732590000000-8081-pd.csi.storage.gke.io',
        },
        volumeHandle: `projects/prod-project/zones/us-central1-a/disks/${name}`,
      },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'topology.gke.io/zone', operator: 'In', values: ['us-central1-a'] },
                { key: 'cloud.google.com/gke-nodepool', operator: 'In', values: ['db-pool'] },
              ],
            },
          ],
        },
      },
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'standard-rwo',
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Bound' },
  };
}

export function csiRegionalPv(
  name = 'pvc-regional-3c4d5e6f',
  claim = { namespace: 'shop', name: 'data-redis-0' },
): V1PersistentVolume {
  const pv = csiZonalPv(name, claim);
  pv.spec = {
    ...pv.spec,
    csi: {
      driver: 'pd.csi.storage.gke.io',
      fsType: 'ext4',
      volumeHandle: `projects/prod-project/regions/us-central1/disks/${name}`,
    },
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [
          {
            matchExpressions: [
              {
                key: 'topology.gke.io/zone',
                operator: 'In',
                values: ['us-central1-a', 'us-central1-f'],
              },
            ],
          },
        ],
      },
    },
    storageClassName: 'regional-rwo',
    capacity: { storage: '200Gi' },
  };
  return pv;
}

export function inTreePv(
  name = 'pv-legacy-wordpress',
  claim = { namespace: 'blog', name: 'wp-content' },
): V1PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      labels: {
        'topology.kubernetes.io/zone': 'us-central1-b',
        'topology.kubernetes.io/region': 'us-central1',
        'failure-domain.beta.kubernetes.io/zone': 'us-central1-b',
        'failure-domain.beta.kubernetes.io/region': 'us-central1',
      },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '10Gi' },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.namespace,
        name: claim.name,
        uid: 'abc',
      },
      gcePersistentDisk: { pdName: 'legacy-wordpress-disk', fsType: 'ext4' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-central1-b'] },
                { key: 'topology.kubernetes.io/region', operator: 'In', values: ['us-central1'] },
              ],
            },
          ],
        },
      },
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'standard',
    },
  };
}

export function claimFor(pv: V1PersistentVolume): V1PersistentVolumeClaim {
  const ref = pv.spec?.claimRef;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: ref?.name ?? 'claim',
      namespace: ref?.namespace ?? 'default',
      uid: '7d1e5b0c-2f1a-4c3b-9d8e-1a2b3c4d5e6f',
      resourceVersion: '48191',
      annotations: {
        'pv.kubernetes.io/bind-completed': 'yes',
        'pv.kubernetes.io/bound-by-controller': 'yes',
        'volume.kubernetes.io/selected-node': 'gke-prod-db-pool-1a2b',
        'volume.beta.kubernetes.io/storage-provisioner': 'pd.csi.storage.gke.io',
      },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: String(pv.spec?.capacity?.['storage'] ?? '10Gi') } },
      storageClassName: pv.spec?.storageClassName ?? 'standard-rwo',
      volumeMode: 'Filesystem',
      volumeName: pv.metadata?.name ?? '',
    },
    status: { phase: 'Bound' },
  };
}
