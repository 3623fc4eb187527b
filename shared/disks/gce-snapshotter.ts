import {
  DisksClient,
  GlobalOperationsClient,
  ProjectsClient,
  RegionDisksClient,
  RegionOperationsClient,
  RegionsClient,
  SnapshotsClient,
  ZoneOperationsClient,
  type protos,
} from '@google-cloud/compute';
import { computeClientOptions, type ComputeClientOptions } from './compute-client-options.js';
import type { Deadline } from '../time/deadline.js';
import { poll } from '../time/retry.js';
import type {
  DiskRestoreOutcome,
  DiskRestoreRequest,
  DiskSnapshotter,
  Failed,
  SnapshotDeletionOutcome,
  SnapshotOutcome,
  SnapshotRequest,
} from './disk-snapshotter.js';
import { classifyComputeError, failedFromError, operationFailure } from './gce-errors.js';
import { OperationWaiter } from './gce-operations.js';
import { QuotaCheck } from './gce-quota.js';
import {
  diskPath,
  isRfc1035Name,
  labelValue,
  restoredDiskNameFor,
  snapshotNameFor,
} from './names.js';
import type { DiskRef } from './pv-disk.js';
import { lastSegment, regionOfZone, regionPath, resourcePath, zonePath } from './zones.js';

type Operation = protos.google.cloud.compute.v1.IOperation;
type Disk = protos.google.cloud.compute.v1.IDisk;
type Snapshot = protos.google.cloud.compute.v1.ISnapshot;

export interface GceSnapshotterOptions {
  /** Passed to every client: endpoint, transport, credentials (see computeClientOptions). */
  client?: ComputeClientOptions;
  /** Pause between two looks at a snapshot's or disk's status, and between operation waits. */
  pollIntervalMs?: number;
}

/** The longest a single API call may take, so one hung call cannot eat the whole deadline. */
const MAX_CALL_MS = 60_000;

/** Statuses after which waiting longer cannot make a snapshot or disk READY. */
const HOPELESS = new Set(['FAILED', 'DELETING', 'UNAVAILABLE']);

/**
 * The label every snapshot Lifeboat makes carries (its value is the backup
 * id). deleteSnapshot deletes nothing without it.
 */
export const BACKUP_LABEL = 'lifeboat-backup';

/** How an insert began: we made it, or it already existed (an earlier delivery made it). */
type Started = { started: 'created' | 'adopted' } | Failed;

/**
 * DiskSnapshotter for Compute Engine persistent disks through the real
 * `@google-cloud/compute` clients: global snapshots (`snapshots.insert`,
 * one call for zonal and regional source disks alike; `snapshots.delete` for
 * the retention sweep), zonal and regional
 * disks, and the operations of all three scopes.
 *
 * Idempotency rests on deterministic names alone: look first, create if
 * absent, adopt on 409 alreadyExists. Compute's `requestId` is deliberately
 * not sent: the API would answer a redelivery within the hour with the first
 * attempt's (possibly failed) operation instead of trying again.
 */
export class GceSnapshotter implements DiskSnapshotter {
  private readonly snapshots: SnapshotsClient;
  private readonly disks: DisksClient;
  private readonly regionDisks: RegionDisksClient;
  private readonly operations: OperationWaiter;
  private readonly quota: QuotaCheck;
  private readonly clients: { close(): Promise<void> }[];
  private readonly pollIntervalMs: number;

  constructor(options: GceSnapshotterOptions = {}) {
    // Each client keeps (and mutates) its options object, so each gets a copy.
    const opts = (): ComputeClientOptions => ({ ...(options.client ?? computeClientOptions()) });
    this.snapshots = new SnapshotsClient(opts());
    this.disks = new DisksClient(opts());
    this.regionDisks = new RegionDisksClient(opts());
    const global = new GlobalOperationsClient(opts());
    const zone = new ZoneOperationsClient(opts());
    const region = new RegionOperationsClient(opts());
    const projects = new ProjectsClient(opts());
    const regions = new RegionsClient(opts());
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.operations = new OperationWaiter({ global, zone, region }, this.pollIntervalMs);
    this.quota = new QuotaCheck(projects, regions);
    this.clients = [
      this.snapshots,
      this.disks,
      this.regionDisks,
      global,
      zone,
      region,
      projects,
      regions,
    ];
  }

  async snapshotDisk(request: SnapshotRequest): Promise<SnapshotOutcome> {
    const { disk, deadline, hooks } = request;
    const name = snapshotNameFor(request.backupId, disk);
    const what = `snapshot ${name} of disk ${diskPath(disk)}`;
    // From the insert on, the snapshot may exist whatever happens next: a failure names it.
    let mayExist = false;
    const named = (failed: Failed): Failed =>
      mayExist ? { ...failed, snapshot: { project: disk.project, name } } : failed;
    try {
      const source = await this.getDisk(disk, deadline);
      if (!source)
        return { status: 'FAILED', reason: `${what}: the disk does not exist`, retryable: false };
      // Look before creating: a snapshot an earlier delivery made counts against the quota
      // too, and must be adopted even when it used the last unit of it.
      const existing = await this.getSnapshot(disk.project, name, deadline);
      let started: Started = { started: 'adopted' };
      mayExist = existing !== undefined;
      if (!existing) {
        const noRoom = await this.quota.snapshots(disk.project, callTimeout(deadline));
        if (noRoom) return { ...noRoom, reason: `${what}: ${noRoom.reason}` };
        if (hooks && !(await hooks.pre())) {
          return {
            status: 'FAILED',
            reason: `${what}: not taken: a pre hook failed`,
            retryable: false,
          };
        }
        mayExist = true;
        try {
          started = await this.insertSnapshot(request, name, what);
        } finally {
          // The point in time is fixed once the creation is done: unfreeze now, not after READY.
          await hooks?.post();
        }
        if ('status' in started) return named(started);
      }
      const waited = await this.waitUntilReady(what, deadline, () =>
        this.getSnapshot(disk.project, name, deadline),
      );
      if (!('ready' in waited)) return named(waited);
      const ready = waited.ready;
      if (resourcePath(ready.sourceDisk ?? '') !== diskPath(disk)) {
        return nameTaken(what, `its source disk is ${ready.sourceDisk ?? '(none)'}`);
      }
      const locations = ready.storageLocations ?? [];
      return {
        status: 'READY',
        snapshot: {
          project: disk.project,
          name,
          ...(locations.length > 0 ? { storageLocations: [...locations] } : {}),
        },
        disk: describeDisk(disk, source),
        created: started.started === 'created',
      };
    } catch (error) {
      return named(failedFromError(what, error));
    }
  }

  async restoreDisk(request: DiskRestoreRequest): Promise<DiskRestoreOutcome> {
    const { target, deadline } = request;
    const name = restoredDiskNameFor(request.restoreId, request.source);
    const wanted: DiskRef = { project: target.project, name, ...placementOf(target) };
    const sourceSnapshot = `projects/${request.snapshot.project}/global/snapshots/${request.snapshot.name}`;
    const what = `disk ${diskPath(wanted)} from snapshot ${sourceSnapshot}`;
    try {
      const existing = await this.getDisk(wanted, deadline);
      let started: Started = { started: 'adopted' };
      if (!existing) {
        const type = request.source.type ? lastSegment(request.source.type) : undefined;
        const region = 'region' in target ? target.region : regionOfZone(target.zone);
        const noRoom = await this.quota.disks(
          target.project,
          region,
          type,
          request.source.sizeGb,
          callTimeout(deadline),
        );
        if (noRoom) return { ...noRoom, reason: `${what}: ${noRoom.reason}` };
        started = await this.insertDisk(request, wanted, sourceSnapshot, what);
        if ('status' in started) return started;
      }
      const waited = await this.waitUntilReady(what, deadline, () =>
        this.getDisk(wanted, deadline),
      );
      if (!('ready' in waited)) return waited;
      const ready = waited.ready;
      if (resourcePath(ready.sourceSnapshot ?? '') !== sourceSnapshot) {
        return nameTaken(what, `its source snapshot is ${ready.sourceSnapshot ?? '(none)'}`);
      }
      return {
        status: 'READY',
        disk: describeDisk(wanted, ready),
        created: started.started === 'created',
      };
    } catch (error) {
      return failedFromError(what, error);
    }
  }

  async deleteSnapshot(
    snapshot: { project: string; name: string },
    deadline: Deadline,
  ): Promise<SnapshotDeletionOutcome> {
    const { project, name } = snapshot;
    const what = `snapshot projects/${project}/global/snapshots/${name}`;
    if (project === '' || !isRfc1035Name(name)) {
      return { status: 'FAILED', reason: `${what}: not a snapshot name`, retryable: false };
    }
    if (deadline.expired()) {
      return {
        status: 'FAILED',
        reason: `${what}: the deadline (${deadline.describe()}) passed before the delete began`,
        retryable: true,
      };
    }
    try {
      const found = await this.getSnapshot(project, name, deadline);
      if (!found) return { status: 'ABSENT' };
      if (typeof found.labels?.[BACKUP_LABEL] !== 'string') {
        return {
          status: 'FAILED',
          reason: `${what}: not made by Lifeboat (no ${BACKUP_LABEL} label), so not deleted`,
          retryable: false,
        };
      }
      let operation: Operation;
      try {
        const [lro] = await this.snapshots.delete(
          { project, snapshot: name },
          { timeout: callTimeout(deadline) },
        );
        operation = latestOperation(lro);
      } catch (error) {
        const c = classifyComputeError(error);
        // Gone between the look and the delete: another delivery of the sweep got there first.
        if (c.kind === 'not-found') return { status: 'ABSENT' };
        // A disk being restored from it, or its own creation unfinished: passes with time.
        if (/already being used|in use|not ready/i.test(c.message)) {
          return { ...failedFromError(`${what}: in use`, error), retryable: true };
        }
        throw error;
      }
      return (await this.finished(what, deadline, project, operation)) ?? { status: 'DELETED' };
    } catch (error) {
      return failedFromError(what, error);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }

  private async insertSnapshot(
    request: SnapshotRequest,
    name: string,
    what: string,
  ): Promise<Started> {
    const { disk, pvc, cluster, deadline } = request;
    const labels: Record<string, string> = {
      [BACKUP_LABEL]: labelValue(request.backupId),
      'lifeboat-cluster': labelValue(cluster.name),
      ...(pvc
        ? {
            'lifeboat-pvc-namespace': labelValue(pvc.namespace),
            'lifeboat-pvc-name': labelValue(pvc.name),
          }
        : {}),
    };
    const snapshotResource: Snapshot = {
      name,
      sourceDisk: diskPath(disk),
      labels,
      description: `Lifeboat backup ${request.backupId} of cluster ${cluster.project}/${cluster.location}/${cluster.name}${
        pvc ? `, PVC ${pvc.namespace}/${pvc.name}` : ''
      }`,
      ...(request.storageLocations?.length
        ? { storageLocations: [...request.storageLocations] }
        : {}),
      ...(request.snapshotType ? { snapshotType: request.snapshotType } : {}),
    };
    return this.started(what, deadline, disk.project, (options) =>
      this.snapshots.insert({ project: disk.project, snapshotResource }, options),
    );
  }

  private async insertDisk(
    request: DiskRestoreRequest,
    wanted: DiskRef,
    sourceSnapshot: string,
    what: string,
  ): Promise<Started> {
    const { target, source, deadline } = request;
    const type = source.type ? lastSegment(source.type) : undefined;
    const labels = {
      'lifeboat-restore': labelValue(request.restoreId),
      'lifeboat-snapshot': labelValue(request.snapshot.name),
    };
    const common: Disk = {
      name: wanted.name,
      sourceSnapshot,
      labels,
      ...(source.sizeGb ? { sizeGb: source.sizeGb } : {}),
    };
    if ('zone' in target) {
      const diskResource: Disk = {
        ...common,
        ...(type ? { type: `${zonePath(target.project, target.zone)}/diskTypes/${type}` } : {}),
      };
      return this.started(what, deadline, target.project, (options) =>
        this.disks.insert({ project: target.project, zone: target.zone, diskResource }, options),
      );
    }
    const diskResource: Disk = {
      ...common,
      replicaZones: target.replicaZones.map((z) => zonePath(target.project, z)),
      ...(type ? { type: `${regionPath(target.project, target.region)}/diskTypes/${type}` } : {}),
    };
    return this.started(what, deadline, target.project, (options) =>
      this.regionDisks.insert(
        { project: target.project, region: target.region, diskResource },
        options,
      ),
    );
  }

  /** Runs an insert and waits for its operation; 409 alreadyExists means adopt. */
  private async started(
    what: string,
    deadline: Deadline,
    project: string,
    insert: (options: { timeout: number }) => Promise<readonly unknown[]>,
  ): Promise<Started> {
    let operation: Operation;
    try {
      const [lro] = await insert({ timeout: callTimeout(deadline) });
      operation = latestOperation(lro);
    } catch (error) {
      if (classifyComputeError(error).kind === 'already-exists') return { started: 'adopted' };
      throw error;
    }
    return (await this.finished(what, deadline, project, operation)) ?? { started: 'created' };
  }

  /**
   * Waits for an operation: undefined when it finished without errors, else
   * FAILED with its errors or with the status it still had at the deadline.
   */
  private async finished(
    what: string,
    deadline: Deadline,
    project: string,
    operation: Operation,
  ): Promise<Failed | undefined> {
    const result = await this.operations.wait(project, operation, deadline);
    if (!result.done) {
      const status = String(result.operation.status ?? 'PENDING');
      return {
        status: 'FAILED',
        reason: `${what}: operation ${operation.name ?? ''} still ${status} after ${deadline.describe()}`,
        retryable: true,
        pending: `operation ${status}`,
      };
    }
    return operationFailure(what, result.operation);
  }

  /**
   * Polls until the resource's status is READY. A missing resource here means
   * the creation we adopted or started failed and took it away.
   */
  private async waitUntilReady<T extends { status?: string | null }>(
    what: string,
    deadline: Deadline,
    get: () => Promise<T | undefined>,
  ): Promise<{ ready: T } | Failed> {
    let seen: string | undefined;
    const late = (status: string): Failed => ({
      status: 'FAILED',
      reason: `${what}: still ${status} after ${deadline.describe()}`,
      retryable: true,
      pending: status,
    });
    const settled = await poll(
      deadline,
      this.pollIntervalMs,
      async (): Promise<{ ready: T } | Failed | undefined> => {
        let current: T | undefined;
        try {
          current = await get();
        } catch (error) {
          // A look cut short by the deadline itself: report what was last seen, not the timeout.
          if (seen && deadline.expired()) return late(seen);
          throw error;
        }
        const status = current?.status ?? 'MISSING';
        if (current && status === 'READY') return { ready: current };
        if (!current || HOPELESS.has(status)) {
          return {
            status: 'FAILED',
            reason: `${what}: status ${status}${current ? '' : ' (its creation failed)'}`,
            retryable: !current,
          };
        }
        seen = status;
        return undefined;
      },
      { lookAtDeadline: false },
    );
    // Undefined only after a look that saw a status, so `seen` is set.
    return settled ?? late(seen ?? 'MISSING');
  }

  private async getSnapshot(
    project: string,
    snapshot: string,
    deadline: Deadline,
  ): Promise<Snapshot | undefined> {
    return orUndefinedIfMissing(async () => {
      const [found] = await this.snapshots.get(
        { project, snapshot },
        { timeout: callTimeout(deadline) },
      );
      return found;
    });
  }

  private async getDisk(disk: DiskRef, deadline: Deadline): Promise<Disk | undefined> {
    const timeout = callTimeout(deadline);
    return orUndefinedIfMissing(async () => {
      if (disk.zone) {
        return (
          await this.disks.get(
            { project: disk.project, zone: disk.zone, disk: disk.name },
            { timeout },
          )
        )[0];
      }
      const region = disk.region ?? '';
      return (
        await this.regionDisks.get({ project: disk.project, region, disk: disk.name }, { timeout })
      )[0];
    });
  }
}

function callTimeout(deadline: Deadline): number {
  return Math.max(1, Math.min(deadline.remainingMs(), MAX_CALL_MS));
}

async function orUndefinedIfMissing<T>(get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (error) {
    if (classifyComputeError(error).kind === 'not-found') return undefined;
    throw error;
  }
}

/**
 * The operation an insert or delete started. The v7 client resolves one to
 * `{latestResponse: Operation, done: false, ...}`; its declared type
 * (LROperation, with a `promise()`) does not match, so read it with care.
 */
function latestOperation(lro: unknown): Operation {
  const latest = (lro as { latestResponse?: unknown } | undefined)?.latestResponse;
  if (
    typeof latest !== 'object' ||
    latest === null ||
    typeof (latest as Operation).name !== 'string'
  ) {
    throw new Error('Compute Engine answered an insert or delete without an operation');
  }
  return latest as Operation;
}

/** The disk as requested, with what Compute Engine says about it: type, size, replica zones. */
function describeDisk(disk: DiskRef, found: Disk): DiskRef {
  const out: DiskRef = { project: disk.project, name: disk.name };
  if (disk.zone) out.zone = disk.zone;
  else {
    out.region = disk.region ?? (found.region ? lastSegment(found.region) : '');
    const replicaZones = (found.replicaZones ?? []).map(lastSegment);
    if (replicaZones.length > 0) out.replicaZones = replicaZones;
    else if (disk.replicaZones) out.replicaZones = [...disk.replicaZones];
  }
  if (found.type) out.type = lastSegment(found.type);
  const sizeGb = Number(found.sizeGb ?? 0);
  if (Number.isInteger(sizeGb) && sizeGb > 0) out.sizeGb = sizeGb;
  return out;
}

function placementOf(
  target: DiskRestoreRequest['target'],
): Pick<DiskRef, 'zone' | 'region' | 'replicaZones'> {
  return 'zone' in target
    ? { zone: target.zone }
    : { region: target.region, replicaZones: [...target.replicaZones] };
}

function nameTaken(what: string, detail: string): Failed {
  return {
    status: 'FAILED',
    reason: `${what}: the name is taken by another resource (${detail})`,
    retryable: false,
  };
}
