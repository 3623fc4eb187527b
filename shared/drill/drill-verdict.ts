import type {
  DrillObjectMismatch,
  DrillPassCriteria,
  DrillVerdict,
  DrillVolumeCheck,
} from '../messages/drill.js';

/** What a drill found, the input of its verdict. */
export interface DrillFindings {
  criteria: DrillPassCriteria;
  restoreVolumes: boolean;
  /** Errors that stopped the drill before it could verify (a refused backup, a timeout, a safety refusal). */
  stopped: string[];
  /** What the restore said went wrong beyond single objects. */
  restoreErrors: string[];
  /** Objects the restore reported failed: `resource ns/name: reason`. */
  failedObjects: string[];
  /** Objects the drill restored and compared with the catalog (not the drill cluster's own, compared in place). */
  compared: number;
  mismatches: DrillObjectMismatch[];
  volumes: DrillVolumeCheck[];
  rtoSeconds?: number;
  timeoutSeconds: number;
  leftBehind: string[];
}

const MAX_LISTED = 10;

function listed(what: string, items: string[]): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, MAX_LISTED).join('; ');
  const more = items.length > MAX_LISTED ? ` (and ${items.length - MAX_LISTED} more)` : '';
  return [`${what}: ${shown}${more}`];
}

/**
 * Passed only when nothing stopped the drill, the restore had no errors, every
 * selected object is there and equal to its catalog record (objects the
 * drill cluster already had are compared in place and do not count
 * against it), every restored claim is bound to a disk made from its
 * snapshot, it verified within the policy's time, and it left nothing
 * behind. Otherwise failed, with one reason per thing that went wrong.
 */
export function drillVerdict(f: DrillFindings): { verdict: DrillVerdict; reasons: string[] } {
  const reasons: string[] = [...f.stopped];
  if (f.stopped.length === 0) {
    reasons.push(...listed('restore errors', f.restoreErrors));
    reasons.push(...listed('objects not restored', f.failedObjects));
    if (f.compared === 0)
      reasons.push('the backup holds no object the drill selects: nothing was proven');
    if (f.criteria.objectsEqualCatalog) {
      // Objects the restore failed are listed above already.
      const own = f.mismatches.filter((m) => !m.inPlace && m.problem !== 'failed');
      reasons.push(
        ...listed(
          `${own.length} object(s) not as the catalog says`,
          own.map(
            (m) =>
              `${m.resource} ${m.namespace ? `${m.namespace}/` : ''}${m.name} ${m.problem}${m.detail ? ` (${m.detail})` : ''}`,
          ),
        ),
      );
    }
    if (f.restoreVolumes && f.criteria.volumesBoundToRestoredDisks) {
      const unbound = f.volumes.filter((v) => !v.bound);
      reasons.push(
        ...listed(
          `${unbound.length} volume(s) not bound to a disk restored from their snapshot`,
          unbound.map((v) => `${v.pvName}${v.detail ? `: ${v.detail}` : ''}`),
        ),
      );
    }
    if (f.rtoSeconds !== undefined && f.rtoSeconds > f.timeoutSeconds) {
      reasons.push(`verified after ${f.rtoSeconds}s, more than the policy's ${f.timeoutSeconds}s`);
    }
  }
  reasons.push(...listed('the drill could not clean up', f.leftBehind));
  return { verdict: reasons.length === 0 ? 'passed' : 'failed', reasons };
}
