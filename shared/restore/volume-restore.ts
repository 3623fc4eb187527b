import type { Catalog } from '../catalog/catalog-schema.js';
import type { CustomObjectsClient } from '../disks/csi-snapshotter.js';
import type { KubeObject } from '../kube/sanitize.js';
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
  /** When this step must hand over (ms since the epoch; Infinity: never). */
  stepDeadline: number;
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
