import {
  CustomObjectsApi,
  type KubeConfig,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import type { Catalog } from '../catalog/catalog-schema.js';
import { CsiSnapshotter } from '../disks/csi-snapshotter.js';
import { Deadline } from '../disks/deadline.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import { restoreVolume } from '../disks/volume-restore.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { RestoreReport } from './report.js';
import type { RestoreJob } from './run-restore.js';
import type { VolumePreparation, VolumeRestore } from './volume-restore.js';

function replaceContents(target: KubeObject, source: object): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, source);
}

/**
 * Volumes of a restore: for each volume in the catalog whose claim is being
 * restored, a disk from its snapshot (or the recorded handle, or nothing, by
 * the volume data policy), with the PV and PVC rewritten in place to bind.
 */
export class DiskVolumeRestore implements VolumeRestore {
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly disks: DiskSnapshotter,
    private readonly timeoutMs = 480_000,
    /** The target cluster's zones (GKE Cluster.locations), when known. */
    private readonly targetZones: readonly string[] = [],
  ) {}

  async prepare(
    catalog: Catalog,
    objects: KubeObject[],
    job: RestoreJob,
  ): Promise<VolumePreparation> {
    const volumes: RestoreReport['volumes'] = [];
    const drop = new Set<KubeObject>();
    const policy = catalog.policy.snapshotVolumes
      ? job.options.volumeDataPolicy
      : 'reuse-volume-handle';
    const mapped = (ns: string | undefined): string | undefined =>
      ns === undefined ? ns : (job.options.namespaceMapping[ns] ?? ns);
    for (const entry of catalog.volumes) {
      const pv = objects.find(
        (o) => o.kind === 'PersistentVolume' && o.metadata.name === entry.pvName,
      );
      const pvc = objects.find(
        (o) =>
          o.kind === 'PersistentVolumeClaim' &&
          o.metadata.name === entry.pvcName &&
          o.metadata.namespace === mapped(entry.pvcNamespace),
      );
      if (!pvc) continue; // the claim is not part of this restore
      const result = await restoreVolume(
        {
          restoreId: job.restoreId,
          entry,
          ...(pv ? { pv: pv as unknown as V1PersistentVolume } : {}),
          pvc: pvc as unknown as V1PersistentVolumeClaim,
          policy,
          zoneMapping: job.options.zoneMapping,
          targetZones: this.targetZones,
          ...(job.options.targetProject ? { targetProject: job.options.targetProject } : {}),
          ...(pvc.metadata.namespace ? { targetNamespace: pvc.metadata.namespace } : {}),
          deadline: Deadline.after(this.timeoutMs),
        },
        {
          disks: this.disks,
          csi: new CsiSnapshotter(this.kubeConfig.makeApiClient(CustomObjectsApi)),
        },
      );
      if (result.pvc) replaceContents(pvc, result.pvc);
      else drop.add(pvc);
      if (pv && result.pv) replaceContents(pv, result.pv);
      else if (pv) drop.add(pv);
      const failed = result.errors.length > 0;
      volumes.push({
        pvName: entry.pvName,
        outcome: failed ? 'failed' : policy,
        ...(result.disk
          ? {
              disk: `projects/${result.disk.project}/${result.disk.zone ? `zones/${result.disk.zone}` : `regions/${result.disk.region}`}/disks/${result.disk.name}`,
            }
          : {}),
        ...(failed
          ? { reason: result.errors.join('; ') }
          : result.warnings.length
            ? { reason: result.warnings.join('; ') }
            : {}),
      });
    }
    return { volumes, drop };
  }
}
