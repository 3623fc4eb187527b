import type { Deadline } from '../../../shared/time/deadline.js';
import type {
  DiskRestoreOutcome,
  DiskRestoreRequest,
  DiskSnapshotter,
  SnapshotDeletionOutcome,
  SnapshotOutcome,
  SnapshotRequest,
} from '../../../shared/disks/disk-snapshotter.js';
import { restoredDiskNameFor, snapshotNameFor } from '../../../shared/disks/names.js';

/** A DiskSnapshotter fake that records requests; `failWith` injects a FAILED outcome. */
export class FakeSnapshotter implements DiskSnapshotter {
  readonly snapshotRequests: SnapshotRequest[] = [];
  readonly restoreRequests: DiskRestoreRequest[] = [];
  readonly deleteRequests: { project: string; name: string }[] = [];
  /** "project/name" of the snapshots it made and has not deleted since. */
  readonly snapshots = new Set<string>();
  failWith?: string;
  throwError?: Error;

  async snapshotDisk(request: SnapshotRequest): Promise<SnapshotOutcome> {
    this.snapshotRequests.push(request);
    if (this.throwError) throw this.throwError;
    if (this.failWith) return { status: 'FAILED', reason: this.failWith, retryable: false };
    const name = snapshotNameFor(request.backupId, request.disk);
    const key = `${request.disk.project}/${name}`;
    // As the real one: hooks around a snapshot this call takes, none around one it adopts.
    if (!this.snapshots.has(key)) {
      if (request.hooks && !(await request.hooks.pre()))
        return { status: 'FAILED', reason: 'not taken: a pre hook failed', retryable: false };
      this.snapshots.add(key);
      await request.hooks?.post();
    }
    return {
      status: 'READY',
      snapshot: { project: request.disk.project, name },
      disk: { ...request.disk, type: 'pd-balanced', sizeGb: 20 },
      created: true,
    };
  }

  async restoreDisk(request: DiskRestoreRequest): Promise<DiskRestoreOutcome> {
    this.restoreRequests.push(request);
    if (this.failWith) return { status: 'FAILED', reason: this.failWith, retryable: false };
    const { target } = request;
    const placement =
      'zone' in target
        ? { zone: target.zone }
        : { region: target.region, replicaZones: target.replicaZones };
    return {
      status: 'READY',
      disk: {
        project: target.project,
        name: restoredDiskNameFor(request.restoreId, request.source),
        ...placement,
      },
      created: true,
    };
  }

  async deleteSnapshot(
    snapshot: { project: string; name: string },
    _deadline: Deadline,
  ): Promise<SnapshotDeletionOutcome> {
    this.deleteRequests.push({ ...snapshot });
    if (this.throwError) throw this.throwError;
    if (this.failWith) return { status: 'FAILED', reason: this.failWith, retryable: false };
    return this.snapshots.delete(`${snapshot.project}/${snapshot.name}`)
      ? { status: 'DELETED' }
      : { status: 'ABSENT' };
  }

  async close(): Promise<void> {}
}
