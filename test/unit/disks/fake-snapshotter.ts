import type {
  DiskRestoreOutcome,
  DiskRestoreRequest,
  DiskSnapshotter,
  SnapshotOutcome,
  SnapshotRequest,
} from '../../../shared/disks/disk-snapshotter.js';
import { restoredDiskNameFor, snapshotNameFor } from '../../../shared/disks/names.js';

/** A DiskSnapshotter fake that records requests; `failWith` injects a FAILED outcome. */
export class FakeSnapshotter implements DiskSnapshotter {
  readonly snapshotRequests: SnapshotRequest[] = [];
  readonly restoreRequests: DiskRestoreRequest[] = [];
  failWith?: string;
  throwError?: Error;

  async snapshotDisk(request: SnapshotRequest): Promise<SnapshotOutcome> {
    this.snapshotRequests.push(request);
    if (this.throwError) throw this.throwError;
    if (this.failWith) return { status: 'FAILED', reason: this.failWith, retryable: false };
    return {
      status: 'READY',
      snapshot: {
        project: request.disk.project,
        name: snapshotNameFor(request.backupId, request.disk),
      },
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

  async close(): Promise<void> {}
}
