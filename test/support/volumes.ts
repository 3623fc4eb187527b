import { mapLimit } from '../../shared/concurrency.js';
import type { KubeHttp } from '../../shared/kube/kube-http.js';
import type { ComputeStandin } from '../../local/standins/compute/server.js';
import { create, R } from '../../local/kube-requests.js';

/** Where the seeded disks are: CSI volume handles name this project, in-tree ones the cluster's. */
export const DISK_ZONE = 'europe-west1-b';

export interface SeededVolume {
  pv: string;
  claim: string;
  kind: 'csi' | 'in-tree';
  disk: { project: string; zone: string; name: string };
}

/**
 * `count` persistent volumes in namespace `ns` (created here), each bound
 * to a claim of its own and backed by a disk the Compute stand-in holds
 * (with bytes of its own): every other one a PD CSI volume
 * (pd.csi.storage.gke.io, its handle naming `csiProject`), the rest in-tree
 * gcePersistentDisk volumes, whose disk is in the cluster's project
 * (`clusterProject`), found through the PV's zone label.
 */
export async function seedVolumes(
  http: KubeHttp,
  compute: ComputeStandin,
  options: { ns: string; count: number; csiProject: string; clusterProject: string },
): Promise<SeededVolume[]> {
  const { ns, count } = options;
  await create(http, R.namespaces, { metadata: { name: ns } });
  const volumes: SeededVolume[] = Array.from({ length: count }, (_, i) => {
    const kind = i % 2 === 0 ? 'csi' : 'in-tree';
    const name = `${ns}-d${i}`;
    const project = kind === 'csi' ? options.csiProject : options.clusterProject;
    return {
      pv: `pv-${name}`,
      claim: `claim-${i}`,
      kind,
      disk: { project, zone: DISK_ZONE, name },
    };
  });
  await mapLimit(volumes, 8, async (v) => {
    const source =
      v.kind === 'csi'
        ? {
            csi: {
              driver: 'pd.csi.storage.gke.io',
              volumeHandle: `projects/${v.disk.project}/zones/${v.disk.zone}/disks/${v.disk.name}`,
              fsType: 'ext4',
            },
          }
        : { gcePersistentDisk: { pdName: v.disk.name, fsType: 'ext4' } };
    await create(http, R.pvs, {
      metadata: {
        name: v.pv,
        ...(v.kind === 'in-tree'
          ? {
              labels: {
                'topology.kubernetes.io/zone': v.disk.zone,
                'topology.kubernetes.io/region': 'europe-west1',
              },
            }
          : {}),
      },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'standard',
        claimRef: { namespace: ns, name: v.claim },
        ...source,
      },
    });
    await create(http, R.pvcs, {
      metadata: { name: v.claim, namespace: ns },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'standard',
        volumeName: v.pv,
        resources: { requests: { storage: '1Gi' } },
      },
    });
    compute.seedDisk({
      ...v.disk,
      sizeGb: 1,
      type: 'pd-balanced',
      bytes: Buffer.from(`the data of ${v.disk.name}`),
    });
  });
  return volumes;
}
