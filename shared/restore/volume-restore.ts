import type { Catalog } from '../catalog/catalog-schema.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { RestoreReport } from './report.js';
import type { RestoreJob } from './run-restore.js';

export interface VolumePreparation {
  volumes: RestoreReport['volumes'];
  /** PVs and PVCs not to create: their data could not be restored, and an empty claim would hide that. */
  drop: Set<KubeObject>;
}

/**
 * The volume half of a restore: before any PV is applied, make the data
 * exist in the target (disks from snapshots, CSI snapshot contents) and
 * rewrite the PV and PVC objects in place to point at it.
 */
export interface VolumeRestore {
  prepare(catalog: Catalog, objects: KubeObject[], job: RestoreJob): Promise<VolumePreparation>;
}
