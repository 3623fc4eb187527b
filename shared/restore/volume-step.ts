import type { Catalog } from '../catalog/catalog-schema.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { Deadline } from '../time/deadline.js';
import type { RestoreReport } from './report.js';
import type { RestoreJob } from './run-restore.js';
import type { VolumeRestore } from './restore-volume.js';

/** What a restore's progress records of its volumes between steps. */
export interface VolumeProgress {
  volumes: RestoreReport['volumes'];
  /** When the first volume began (ms since the epoch): the volumes' overall limit counts from it. */
  volumesStartedAt?: number;
  /** PVs and PVCs as volume restore left them, by plan item key; null: not to be created. */
  volumeObjects?: Record<string, KubeObject | null>;
  /** Every volume has its outcome: objects may be applied. */
  volumesSettled?: boolean;
}

/**
 * One step of a restore's volumes: every volume not yet finished is given
 * until the step's deadline; those that finish are recorded with their
 * rewritten PV and PVC, the rest are left for the next step. Returns
 * whether every volume is finished.
 */
export async function advanceVolumes(
  restore: VolumeRestore,
  catalog: Catalog,
  job: RestoreJob,
  planned: Readonly<Record<string, KubeObject>>,
  progress: VolumeProgress,
  stepDeadline: Deadline,
): Promise<boolean> {
  const startedAt = (progress.volumesStartedAt ??= Date.now());
  const settled = (progress.volumeObjects ??= {});
  const keys = Object.keys(planned).filter((k) => !(k in settled));
  // Copies: the plan keeps each object as planned, for a step that has to try again.
  const objects = keys.map((k) => structuredClone(planned[k]!));
  const prepared = await restore.prepare(catalog, objects, job, { stepDeadline, startedAt });
  keys.forEach((key, i) => {
    const object = objects[i]!;
    if (prepared.pending?.has(object)) return;
    settled[key] = prepared.drop.has(object) ? null : object;
  });
  progress.volumes.push(...prepared.volumes);
  progress.volumesSettled = (prepared.pending?.size ?? 0) === 0;
  return progress.volumesSettled;
}
