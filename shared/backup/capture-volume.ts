import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { VolumeEntry } from '../catalog/catalog-schema.js';
import { errorMessage } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { CsiSnapshotOutcome, CsiSnapshotter } from '../disks/csi-snapshotter.js';
import type { Deadline } from '../time/deadline.js';
import type {
  CaptureHooks,
  DiskSnapshotter,
  Failed,
  SnapshotOutcome,
  SnapshotType,
} from '../disks/disk-snapshotter.js';
import { captureHooks, type HookRun } from '../disks/hooks.js';
import type { PodExec } from '../disks/pod-exec.js';
import { volumeSourceOf } from '../disks/pv-disk.js';

/**
 * One volume, one unit of work: map the PV to its disk, run the pods' hooks
 * around the snapshot, and produce the catalog's entry. A cluster with
 * hundreds of disks fans out one of these per disk, each far inside the
 * function time limit.
 */

export interface VolumeCaptureRequest {
  backupId: string;
  cluster: ClusterRef;
  pv: V1PersistentVolume;
  pvc?: V1PersistentVolumeClaim;
  /** The pods that mount the claim (see podsUsingClaim): their hooks run around the snapshot. */
  pods?: V1Pod[];
  /** VolumeSnapshotClass to use, per CSI driver, for volumes that are not GCE persistent disks. */
  csiSnapshotClasses?: Record<string, string>;
  storageLocations?: string[];
  snapshotType?: SnapshotType;
  deadline: Deadline;
}

export interface VolumeCaptureDeps {
  disks: DiskSnapshotter;
  csi?: Pick<CsiSnapshotter, 'snapshotClaim'>;
  exec?: PodExec;
}

export interface VolumeCaptureResult {
  entry: VolumeEntry;
  /** Reasons the backup is PartiallyFailed because of this volume (empty when it is fine). */
  errors: string[];
  warnings: string[];
  hooks: HookRun[];
  /**
   * The snapshotter's failure when a later attempt may still succeed (the
   * snapshot still uploading, a 503): the caller decides whether to try
   * again or to record the entry as it is.
   */
  retryable?: Failed;
}

export async function captureVolume(
  request: VolumeCaptureRequest,
  deps: VolumeCaptureDeps,
): Promise<VolumeCaptureResult> {
  const { pv, pvc, cluster } = request;
  const source = volumeSourceOf(pv, cluster.project);
  const entry = baseEntry(pv, pvc, source.driver);
  const claim =
    entry.pvcNamespace && entry.pvcName
      ? { namespace: entry.pvcNamespace, name: entry.pvcName }
      : undefined;
  const notSnapshotted = (reason: string): VolumeCaptureResult => ({
    entry: { ...entry, status: 'NOT_SNAPSHOTTED', reason },
    errors: [],
    warnings: [`volume ${entry.pvName} is not snapshotted: ${reason}`],
    hooks: [],
  });
  let action: (hooks: CaptureHooks) => Promise<SnapshotOutcome | CsiSnapshotOutcome>;
  if (source.kind === 'none') return notSnapshotted(source.reason);
  if (source.kind === 'gce-pd') {
    entry.disk = source.disk;
    action = (hooks) =>
      deps.disks.snapshotDisk({
        backupId: request.backupId,
        cluster,
        disk: source.disk,
        ...(claim ? { pvc: claim } : {}),
        ...(request.storageLocations ? { storageLocations: request.storageLocations } : {}),
        ...(request.snapshotType ? { snapshotType: request.snapshotType } : {}),
        deadline: request.deadline,
        hooks,
      });
  } else {
    const volumeSnapshotClass = request.csiSnapshotClasses?.[source.driver];
    if (!volumeSnapshotClass || !deps.csi)
      return notSnapshotted(`no VolumeSnapshotClass is configured for CSI driver ${source.driver}`);
    if (!claim)
      return notSnapshotted('a CSI snapshot is taken of a claim, and this PV is not bound to one');
    const csi = deps.csi;
    action = (hooks) =>
      csi.snapshotClaim({
        backupId: request.backupId,
        namespace: claim.namespace,
        pvcName: claim.name,
        volumeSnapshotClass,
        deadline: request.deadline,
        hooks,
      });
  }
  // The snapshotter runs the hooks at the capture itself (see CaptureHooks): an attempt that
  // adopts a snapshot an earlier one created runs none, and none is run twice around one cut.
  const capture = captureHooks(request.pods ?? [], deps.exec);
  const hooked = capture.report;
  let outcome: SnapshotOutcome | CsiSnapshotOutcome | undefined;
  let thrown: unknown;
  try {
    outcome = await action(capture.hooks);
  } catch (error) {
    thrown = error;
  } finally {
    await capture.finish();
  }
  const final = finalEntry(entry, outcome, thrown, hooked.stopped);
  return {
    entry: final,
    errors: [
      ...(final.status === 'FAILED' ? [`volume ${final.pvName}: ${final.reason ?? 'failed'}`] : []),
      ...hooked.errors,
    ],
    warnings: hooked.warnings,
    hooks: hooked.runs,
    ...(outcome?.status === 'FAILED' && outcome.retryable ? { retryable: outcome } : {}),
  };
}

function finalEntry(
  entry: VolumeEntry,
  outcome: SnapshotOutcome | CsiSnapshotOutcome | undefined,
  thrown: unknown,
  stopped: boolean,
): VolumeEntry {
  if (stopped) return { ...entry, status: 'FAILED', reason: 'not snapshotted: a pre hook failed' };
  if (!outcome) return { ...entry, status: 'FAILED', reason: errorMessage(thrown) };
  if (outcome.status === 'FAILED') {
    // A snapshot that exists (or may) is named even so, so retention deletes it with the backup.
    const snapshot = outcome.snapshot ? { snapshot: { ...outcome.snapshot } } : {};
    return { ...entry, ...snapshot, status: 'FAILED', reason: outcome.reason };
  }
  if ('csiSnapshot' in outcome)
    return { ...entry, status: 'READY', csiSnapshot: outcome.csiSnapshot };
  return { ...entry, status: 'READY', disk: outcome.disk, snapshot: outcome.snapshot };
}

function baseEntry(
  pv: V1PersistentVolume,
  pvc: V1PersistentVolumeClaim | undefined,
  driver: string,
): VolumeEntry {
  const claimRef = pv.spec?.claimRef;
  const pvcNamespace = pvc?.metadata?.namespace ?? claimRef?.namespace;
  const pvcName = pvc?.metadata?.name ?? claimRef?.name;
  const storageClass = pv.spec?.storageClassName;
  const capacity = pv.spec?.capacity?.['storage'];
  return {
    pvName: pv.metadata?.name ?? '',
    ...(pvcNamespace ? { pvcNamespace } : {}),
    ...(pvcName ? { pvcName } : {}),
    driver,
    ...(storageClass ? { storageClass } : {}),
    ...(capacity ? { capacity: String(capacity) } : {}),
    status: 'NOT_SNAPSHOTTED',
  };
}
