import {
  CustomObjectsApi,
  type KubeConfig,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import type { Catalog } from '../catalog/catalog-schema.js';
import { mapLimit } from '../concurrency.js';
import { CsiSnapshotter, type CustomObjectsClient } from '../disks/csi-snapshotter.js';
import { Deadline } from '../time/deadline.js';
import { formatDuration } from '../time/duration.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import type { KubeObject } from '../kube/sanitize.js';
import { provisionVolume, type VolumeProvisionResult } from './provision-volume.js';
import type { RestoreReport } from './report.js';
import type { RestoreJob } from './run-restore.js';

export interface VolumePreparation {
  /** The volumes that reached an outcome (restored or failed). */
  volumes: RestoreReport['volumes'];
  /** PVs and PVCs not to create: their data could not be restored, and an empty claim would hide that. */
  drop: Set<KubeObject>;
  /**
   * PVs and PVCs whose volume is not finished at the step's deadline (a disk
   * not READY yet, a passing failure): untouched, for the next step to pick
   * up again (disks are adopted by their deterministic names).
   */
  pending?: Set<KubeObject>;
}

/** How long volume work may go on. */
export interface VolumeLimits {
  /** When this step must hand over. */
  stepDeadline: Deadline;
  /** When the restore's first volume began (ms since the epoch): its overall limit counts from it. */
  startedAt: number;
}

/**
 * The volume half of a restore: before any PV is applied, make the data
 * exist in the target (disks from snapshots, CSI snapshot contents) and
 * rewrite the PV and PVC objects in place to point at it.
 */
export interface VolumeRestore {
  prepare(
    catalog: Catalog,
    objects: KubeObject[],
    job: RestoreJob,
    limits?: VolumeLimits,
  ): Promise<VolumePreparation>;
  /**
   * The same volume restore with the objects it makes in the target cluster
   * (CSI snapshot contents and snapshots) made through `client`: a drill
   * passes its guarded client, so those writes are checked like its others.
   */
  withCustomObjects?(client: CustomObjectsClient): VolumeRestore;
}

function notBegun(pvName: string, deadline: Deadline): VolumeProvisionResult {
  return {
    errors: [`volume ${pvName}: not begun within the step's ${deadline.describe()}`],
    warnings: [],
    retryable: true,
  };
}

function replaceContents(target: KubeObject, source: object): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, source);
}

/** Volumes restored at once. */
export const VOLUME_CONCURRENCY = 8;

/** The default limit on a restore's volume work, over all its steps. */
export const VOLUMES_OVERALL_MS = 60 * 60_000;

/** The least a step gives its volumes, so a step that starts late still moves them on. */
const MIN_WINDOW_MS = 5_000;

/**
 * Volumes of a restore: for each volume in the catalog whose claim is being
 * restored, a disk from its snapshot (or the recorded handle, or nothing, by
 * the volume data policy), with the PV and PVC rewritten in place to bind.
 * Volumes go in parallel until the step's deadline; one not finished then
 * is pending, picked up by the next step (its disk adopted by name). It
 * fails on a real failure, or once the restore's overall time for volumes
 * (counted from its first volume) has run out.
 */
export class DiskVolumeRestore implements VolumeRestore {
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly disks: DiskSnapshotter,
    /** The restore's overall time for volumes, over all its steps. */
    private readonly overallMs = VOLUMES_OVERALL_MS,
    /** The target cluster's zones (GKE Cluster.locations), when known. */
    private readonly targetZones: readonly string[] = [],
    /** Where CSI snapshot objects are made (default: the kubeConfig's CustomObjectsApi). */
    private readonly customObjects?: CustomObjectsClient,
  ) {}

  withCustomObjects(client: CustomObjectsClient): DiskVolumeRestore {
    return new DiskVolumeRestore(
      this.kubeConfig,
      this.disks,
      this.overallMs,
      this.targetZones,
      client,
    );
  }

  async prepare(
    catalog: Catalog,
    objects: KubeObject[],
    job: RestoreJob,
    limits: VolumeLimits = { stepDeadline: Deadline.none(), startedAt: Date.now() },
  ): Promise<VolumePreparation> {
    const drop = new Set<KubeObject>();
    const pending = new Set<KubeObject>();
    const policy = catalog.policy.snapshotVolumes
      ? job.options.volumeDataPolicy
      : 'reuse-volume-handle';
    const mapped = (ns: string | undefined): string | undefined =>
      ns === undefined ? ns : (job.options.namespaceMapping[ns] ?? ns);
    const work = catalog.volumes.flatMap((entry) => {
      const pv = objects.find(
        (o) => o.kind === 'PersistentVolume' && o.metadata.name === entry.pvName,
      );
      const pvc = objects.find(
        (o) =>
          o.kind === 'PersistentVolumeClaim' &&
          o.metadata.name === entry.pvcName &&
          o.metadata.namespace === mapped(entry.pvcNamespace),
      );
      return pvc ? [{ entry, pv, pvc }] : []; // no claim: not part of this restore
    });
    const overallAt = limits.startedAt + this.overallMs;
    const deadline = Deadline.at(
      Math.min(overallAt, limits.stepDeadline.atLeast(MIN_WINDOW_MS).at),
    );
    const csi = new CsiSnapshotter(
      this.customObjects ?? this.kubeConfig.makeApiClient(CustomObjectsApi),
    );
    const results = await mapLimit(work, VOLUME_CONCURRENCY, ({ entry, pv, pvc }) =>
      // One not begun before the deadline waits for the next step rather than start late.
      deadline.expired()
        ? Promise.resolve(notBegun(entry.pvName, deadline))
        : provisionVolume(
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
              deadline,
            },
            { disks: this.disks, csi },
          ),
    );
    const volumes: RestoreReport['volumes'] = [];
    results.forEach((result, i) => {
      const { entry, pv, pvc } = work[i]!;
      const failed = result.errors.length > 0;
      if (failed && result.retryable && Date.now() < overallAt) {
        pending.add(pvc);
        if (pv) pending.add(pv);
        return;
      }
      if (result.pvc) replaceContents(pvc, result.pvc);
      else drop.add(pvc);
      if (pv && result.pv) replaceContents(pv, result.pv);
      else if (pv) drop.add(pv);
      const late =
        failed && result.retryable
          ? [`not done within the restore's ${formatDuration(this.overallMs)} for volumes`]
          : [];
      volumes.push({
        pvName: entry.pvName,
        outcome: failed ? 'failed' : policy,
        ...(result.disk
          ? {
              disk: `projects/${result.disk.project}/${result.disk.zone ? `zones/${result.disk.zone}` : `regions/${result.disk.region}`}/disks/${result.disk.name}`,
            }
          : {}),
        ...(failed
          ? { reason: [...result.errors, ...late].join('; ') }
          : result.warnings.length
            ? { reason: result.warnings.join('; ') }
            : {}),
      });
    });
    return { volumes, drop, pending };
  }
}
