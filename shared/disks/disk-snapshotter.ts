import type { ClusterRef } from '../messages/common.js';
import type { Deadline } from '../time/deadline.js';
import type { DiskRef } from './pv-disk.js';
import type { DiskPlacement } from './zones.js';

export const SnapshotTypes = ['STANDARD', 'ARCHIVE'] as const;
export type SnapshotType = (typeof SnapshotTypes)[number];

export interface SnapshotRequest {
  /** Names the snapshot (with the disk), so a redelivered request finds the first one. */
  backupId: string;
  /** Recorded in the snapshot's labels. */
  cluster: ClusterRef;
  disk: DiskRef;
  /** The claim whose data this is, for the labels (and for people reading the console). */
  pvc?: { namespace: string; name: string };
  /** Multi-region or region to store the snapshot in; the API's default when absent. */
  storageLocations?: string[];
  snapshotType?: SnapshotType;
  /** Everything, the operation and the wait for READY, must be over by then. */
  deadline: Deadline;
  /** Run around the moment the snapshot is taken, only when this call creates it. */
  hooks?: CaptureHooks;
}

/**
 * What runs around the capture itself (the pods' pre and post hooks). A
 * snapshot's point in time is fixed once its creation is done, well before
 * it is READY (GCE uploads for minutes after), so `post` runs then, not
 * after the wait for READY: a frozen filesystem is never held for the
 * upload. A call that adopts an existing snapshot runs neither, since its
 * point in time was fixed by whoever created it.
 */
export interface CaptureHooks {
  /** Before the create; false means a pre hook failed and the snapshot must not be taken. */
  pre(): Promise<boolean>;
  /** Once the creation is done (or failed): the post hooks, run at most once. */
  post(): Promise<void>;
}

/** The snapshot exists and is READY. */
export interface SnapshotReady {
  status: 'READY';
  snapshot: { project: string; name: string; storageLocations?: string[] };
  /** The source disk as Compute Engine describes it: type, size and replica zones filled in. */
  disk: DiskRef;
  /** False when a snapshot of an earlier delivery was adopted. */
  created: boolean;
}

/**
 * The snapshot could not be made READY. `reason` is one line for the
 * catalog; `retryable` says whether a redelivery could succeed (it then
 * adopts whatever this attempt started, since names are deterministic).
 */
export interface Failed {
  status: 'FAILED';
  reason: string;
  retryable: boolean;
  /**
   * The status the resource still had when the deadline came (CREATING,
   * UPLOADING, an operation RUNNING): not a failure of the resource, only
   * of the wait; a later look may find it READY.
   */
  pending?: string;
  /** The snapshot this call created or found, which exists (or may): whoever records the failure names it, so it is deleted in time. */
  snapshot?: { project: string; name: string };
}

export type SnapshotOutcome = SnapshotReady | Failed;

export interface DiskRestoreRequest {
  /** Names the disk (with the source disk), so a redelivered request finds the first one. */
  restoreId: string;
  snapshot: { project: string; name: string };
  /** The original disk: its type and size are reused, its identity names the new disk. */
  source: DiskRef;
  /** The target project; the zone or region after zone mapping. */
  target: { project: string } & DiskPlacement;
  deadline: Deadline;
}

export interface DiskReady {
  status: 'READY';
  disk: DiskRef;
  /** False when a disk of an earlier delivery was adopted. */
  created: boolean;
}

export type DiskRestoreOutcome = DiskReady | Failed;

/**
 * DELETED: this call deleted the snapshot and its operation finished.
 * ABSENT: there was no such snapshot (already deleted, perhaps by an earlier
 * delivery of the same sweep); deleting is idempotent, so this is no error.
 */
export type SnapshotDeletionOutcome = { status: 'DELETED' | 'ABSENT' } | Failed;

/**
 * Takes and restores snapshots of Compute Engine persistent disks, in the
 * spirit of Velero's VolumeSnapshotter, but waiting: nothing is reported
 * READY until the cloud says it is. No method throws for a failure of the
 * disk or snapshot at hand; they return FAILED with the reason, so one bad
 * disk makes a backup PartiallyFailed instead of stopping it. They throw only
 * for bugs and malformed requests.
 */
export interface DiskSnapshotter {
  /**
   * Snapshots `disk` under a name derived from the backup id and the disk,
   * or adopts the snapshot an earlier delivery made under that name. Checks
   * the project's snapshot quota before creating, waits for the operation,
   * then for the snapshot's status READY, all before `deadline`.
   */
  snapshotDisk(request: SnapshotRequest): Promise<SnapshotOutcome>;

  /**
   * Creates a disk from a snapshot in the target project and zone (or region
   * with replica zones), with the source disk's type and size, under a name
   * derived from the restore id and the source disk, or adopts the disk an
   * earlier delivery made under that name; waits until it is READY.
   */
  restoreDisk(request: DiskRestoreRequest): Promise<DiskRestoreOutcome>;

  /**
   * Deletes a snapshot Lifeboat made, for the retention sweep once no backup
   * catalog references it any more. Only a snapshot carrying the
   * `lifeboat-backup` label (set when snapshotDisk creates it) is deleted;
   * any other is refused with FAILED "not made by Lifeboat", so a
   * misconfigured sweep can never delete someone else's snapshot. A snapshot
   * that does not exist is ABSENT (idempotent, not an error). Otherwise waits
   * for the delete operation to finish before `deadline`: DELETED when it
   * succeeded, FAILED with the reason (snapshot in use or not ready,
   * operation error, still running at the deadline) when not.
   */
  deleteSnapshot(
    snapshot: { project: string; name: string },
    deadline: Deadline,
  ): Promise<SnapshotDeletionOutcome>;

  /** Releases connections. */
  close(): Promise<void>;
}
