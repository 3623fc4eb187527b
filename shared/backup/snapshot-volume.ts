import {
  CustomObjectsApi,
  type KubeConfig,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
} from '@kubernetes/client-node';
import { CsiSnapshotter } from '../disks/csi-snapshotter.js';
import { Deadline } from '../disks/deadline.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import { podsUsingClaim } from '../disks/hooks.js';
import { KubePodExec } from '../disks/pod-exec.js';
import { backupVolume } from '../disks/volume-backup.js';
import type { BackupPolicy, ClusterRef } from '../messages/common.js';
import { KubeApiError, KubeHttp, pathSegment } from '../kube/kube-http.js';
import { parseStoredJson, type ObjectStore } from '../store/object-store.js';
import { volumeKey, writeVolumePart, type VolumePart } from './parts.js';

async function getOrUndefined<T>(http: KubeHttp, path: string): Promise<T | undefined> {
  try {
    return await http.request<T>('GET', path);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Captures one persistent volume and records its part: reads the PV, its
 * claim and the pods using it (for their hooks), snapshots the disk or the
 * claim, and writes the volume's catalog entry. A redelivered unit whose part
 * exists does nothing again.
 */
export async function snapshotVolume(
  kubeConfig: KubeConfig,
  deps: { store: ObjectStore; disks: DiskSnapshotter },
  job: { backupId: string; cluster: ClusterRef; policy: BackupPolicy; pvName: string },
  deadlineMs: number,
): Promise<VolumePart> {
  const key = volumeKey(job, job.pvName);
  if (await deps.store.exists(key))
    return parseStoredJson(await deps.store.get(key), key) as VolumePart;
  const http = new KubeHttp(kubeConfig);
  try {
    const pv = await getOrUndefined<V1PersistentVolume>(
      http,
      `/api/v1/persistentvolumes/${pathSegment(job.pvName, 'PV name')}`,
    );
    let part: VolumePart;
    if (!pv) {
      part = {
        pvName: job.pvName,
        volume: {
          pvName: job.pvName,
          driver: 'unknown',
          status: 'FAILED',
          reason: 'the PV was deleted before its snapshot',
        },
        errors: [`volume ${job.pvName}: the PV was deleted before its snapshot`],
        warnings: [],
      };
    } else {
      const claimRef = pv.spec?.claimRef;
      const ns = claimRef?.namespace;
      const pvc =
        ns && claimRef?.name
          ? await getOrUndefined<V1PersistentVolumeClaim>(
              http,
              `/api/v1/namespaces/${pathSegment(ns, 'namespace')}/persistentvolumeclaims/${pathSegment(claimRef.name, 'claim name')}`,
            )
          : undefined;
      const pods = ns
        ? ((
            await http.request<{ items: V1Pod[] }>(
              'GET',
              `/api/v1/namespaces/${pathSegment(ns, 'namespace')}/pods`,
            )
          ).items ?? [])
        : [];
      const result = await backupVolume(
        {
          backupId: job.backupId,
          cluster: job.cluster,
          pv,
          ...(pvc ? { pvc } : {}),
          pods: ns && claimRef?.name ? podsUsingClaim(pods, ns, claimRef.name) : [],
          ...(job.policy.csiSnapshotClasses
            ? { csiSnapshotClasses: job.policy.csiSnapshotClasses }
            : {}),
          ...(job.policy.snapshotStorageLocations
            ? { storageLocations: job.policy.snapshotStorageLocations }
            : {}),
          ...(job.policy.snapshotType ? { snapshotType: job.policy.snapshotType } : {}),
          deadline: Deadline.after(
            Math.min(deadlineMs - Date.now(), (job.policy.snapshotTimeoutSeconds ?? 480) * 1000),
          ),
        },
        {
          disks: deps.disks,
          csi: new CsiSnapshotter(kubeConfig.makeApiClient(CustomObjectsApi)),
          exec: new KubePodExec(kubeConfig),
        },
      );
      part = {
        pvName: job.pvName,
        volume: result.entry,
        errors: result.errors,
        warnings: result.warnings,
      };
    }
    await writeVolumePart(deps.store, job, part);
    return part;
  } finally {
    http.close();
  }
}
