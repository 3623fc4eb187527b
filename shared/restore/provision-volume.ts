import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { VolumeEntry } from '../catalog/catalog-schema.js';
import { errorMessage, isRetryable } from '../errors.js';
import type { VolumeDataPolicy } from '../messages/restore.js';
import type { CsiSnapshotter } from '../disks/csi-snapshotter.js';
import type { Deadline } from '../time/deadline.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import type { DiskRef } from '../disks/pv-disk.js';
import {
  reusePersistentVolume,
  rewritePersistentVolume,
  rewritePersistentVolumeClaim,
} from '../disks/pv-rewrite.js';
import { mapPlacement } from '../disks/zones.js';

/**
 * Restores one volume under a volume data policy (compare Backup for GKE's
 * volume data restore policies):
 *
 * - restore-from-snapshot: a new disk from the snapshot (in the target
 *   project, in the mapped zone), and the PV rewritten to it; or, for a CSI
 *   snapshot, a claim whose dataSource is the recreated VolumeSnapshot;
 * - reuse-volume-handle: the PV as it was, pointing at the original disk
 *   (for a restore into a cluster that can reach it, and not alongside the
 *   source cluster still using it);
 * - no-volume-data: only the claim, which then gets a new, empty volume.
 *
 * The result is the PV and PVC to create: pre-bound to each other when
 * there is a PV. Creating them is the manifest restore's job.
 */

export interface VolumeProvisionRequest {
  restoreId: string;
  entry: VolumeEntry;
  /** The PV and PVC as backed up (sanitised JSON from the catalog). */
  pv?: V1PersistentVolume;
  pvc: V1PersistentVolumeClaim;
  policy: VolumeDataPolicy;
  zoneMapping?: Record<string, string>;
  /** The target cluster's zones: disks from zones the mapping does not name go there. */
  targetZones?: readonly string[];
  /** Project for restored disks; the source disk's project when absent. */
  targetProject?: string;
  /** The claim's namespace in the target (after namespace mapping). */
  targetNamespace?: string;
  deadline: Deadline;
}

export interface VolumeProvisionDeps {
  disks: DiskSnapshotter;
  csi?: Pick<CsiSnapshotter, 'restoreClaim'>;
}

export interface VolumeProvisionResult {
  pv?: V1PersistentVolume;
  /** Absent when the volume cannot be restored: better no claim than one silently empty. */
  pvc?: V1PersistentVolumeClaim;
  /** The disk created (or adopted) from the snapshot. */
  disk?: DiskRef;
  errors: string[];
  warnings: string[];
  /** Set on a failure that may pass (a disk not READY yet, an API hiccup): trying again can succeed. */
  retryable?: boolean;
}

export async function provisionVolume(
  request: VolumeProvisionRequest,
  deps: VolumeProvisionDeps,
): Promise<VolumeProvisionResult> {
  const { entry, pv, policy } = request;
  const namespace =
    request.targetNamespace ?? request.pvc.metadata?.namespace ?? entry.pvcNamespace ?? '';
  const claim = { namespace, name: request.pvc.metadata?.name ?? entry.pvcName ?? '' };
  const fail = (reason: string, retryable = false): VolumeProvisionResult => ({
    errors: [`volume ${entry.pvName}: ${reason}`],
    warnings: [],
    ...(retryable ? { retryable } : {}),
  });
  if (policy === 'no-volume-data') {
    return {
      pvc: rewritePersistentVolumeClaim(request.pvc, { namespace }),
      errors: [],
      warnings: [],
    };
  }
  if (policy === 'reuse-volume-handle' || entry.status === 'NOT_SNAPSHOTTED') {
    if (!pv) return fail('the backup holds no PV to reuse');
    const pair = prebound(reusePersistentVolume(pv, claim), request.pvc, namespace);
    const warnings =
      policy === 'reuse-volume-handle'
        ? []
        : [
            `volume ${entry.pvName} was not snapshotted (${entry.reason ?? 'no reason recorded'}); its PV is restored as it was`,
          ];
    return { ...pair, errors: [], warnings };
  }
  if (entry.status !== 'READY')
    return fail(`no usable snapshot (${entry.status}: ${entry.reason ?? 'no reason recorded'})`);
  try {
    if (entry.csiSnapshot) return await restoreFromCsi(request, deps, namespace, fail);
    if (!entry.disk || !entry.snapshot || !pv)
      return fail('the catalog entry names no disk snapshot and PV');
    const placement = mapPlacement(entry.disk, request.zoneMapping ?? {}, request.targetZones);
    const outcome = await deps.disks.restoreDisk({
      restoreId: request.restoreId,
      snapshot: { project: entry.snapshot.project, name: entry.snapshot.name },
      source: entry.disk,
      target: { project: request.targetProject ?? entry.disk.project, ...placement },
      deadline: request.deadline,
    });
    if (outcome.status === 'FAILED') return fail(outcome.reason, outcome.retryable);
    const pair = prebound(rewritePersistentVolume(pv, outcome.disk, claim), request.pvc, namespace);
    return { ...pair, disk: outcome.disk, errors: [], warnings: [] };
  } catch (error) {
    return fail(errorMessage(error), isRetryable(error));
  }
}

async function restoreFromCsi(
  request: VolumeProvisionRequest,
  deps: VolumeProvisionDeps,
  namespace: string,
  fail: (reason: string, retryable?: boolean) => VolumeProvisionResult,
): Promise<VolumeProvisionResult> {
  const snapshot = request.entry.csiSnapshot;
  if (!snapshot) return fail('no CSI snapshot recorded');
  if (!deps.csi) return fail('restoring a CSI snapshot needs access to the target cluster');
  const outcome = await deps.csi.restoreClaim({
    restoreId: request.restoreId,
    snapshot,
    driver: request.entry.driver,
    pvc: request.pvc,
    namespace,
    deadline: request.deadline,
  });
  if (outcome.status === 'FAILED') return fail(outcome.reason, outcome.retryable);
  return { pvc: outcome.pvc, errors: [], warnings: [] };
}

/** The PV (already pointing at its claim) and the claim pointing back at it. */
function prebound(pv: V1PersistentVolume, pvc: V1PersistentVolumeClaim, namespace: string) {
  const volumeName = pv.metadata?.name ?? '';
  return { pv, pvc: rewritePersistentVolumeClaim(pvc, { namespace, volumeName }) };
}
