import {
  alreadyExists,
  ApiFailure,
  checkLabels,
  checkName,
  inUse,
  invalid,
  link,
  newId,
  notFound,
  notReady,
  quotaExceeded,
  timestamp,
  type Json,
} from './shapes.js';

/**
 * The resources of the Compute Engine stand-in: disks that hold real bytes,
 * snapshots that copy them, disks restored from snapshots that copy them
 * back, and the operations that create them (and delete snapshots), which
 * advance PENDING -> RUNNING -> DONE one step each time a client looks.
 */

/** Where a disk is: zonal (zone) or regional (region). */
export interface DiskAddress {
  project: string;
  name: string;
  zone?: string;
  region?: string;
}

/** A READY snapshot put in place without the API, e.g. one someone else made. */
export interface SeedSnapshot {
  project: string;
  name: string;
  /** None by default: a snapshot Lifeboat did not make. */
  labels?: Record<string, string>;
  /** The disk it was taken of; need not exist. */
  sourceDisk?: DiskAddress;
  bytes?: Buffer;
}

export interface SeedDisk extends DiskAddress {
  replicaZones?: string[];
  sizeGb?: number;
  /** Short type name, e.g. pd-balanced. */
  type?: string;
  bytes?: Buffer;
}

/** Failures the stand-in can be told to produce, each as the real API shows it. */
export interface ComputeFaults {
  /** The project's SNAPSHOTS quota is used up (projects.get shows usage == limit; inserts get 403). */
  snapshotQuotaExhausted?: boolean;
  /** snapshots.insert answers 403 quotaExceeded although projects.get shows room (a lost race). */
  snapshotInsertQuotaExceeded?: boolean;
  /**
   * Every operation started from now on ends DONE with this error: an
   * insert's resource goes away, a deleted snapshot stays (READY again).
   */
  operationError?: { code: string; message: string; httpStatus?: number };
  /** New snapshots stay CREATING forever (their operation still finishes). */
  snapshotStuckCreating?: boolean;
  /** Operations started from now on stop at RUNNING. */
  operationStuckRunning?: boolean;
  /** The regions' SSD_TOTAL_GB and DISKS_TOTAL_GB quotas are used up. */
  diskQuotaExhausted?: boolean;
  /**
   * Snapshots inserted from now on stay UPLOADING at least this long after
   * their creation operation is done, as a first snapshot of a large disk does.
   */
  snapshotUploadMs?: number;
  /**
   * Disks inserted from now on stay CREATING at least this long after their
   * creation operation is done, as a large disk restored from a snapshot does.
   */
  diskCreateMs?: number;
}

interface DiskRecord {
  id: string;
  address: DiskAddress;
  replicaZones: string[];
  sizeGb: number;
  type: string;
  bytes: Buffer;
  status: 'CREATING' | 'READY' | 'DELETING';
  labels: Record<string, string>;
  description?: string;
  sourceSnapshot?: { path: string; id: string };
  created: string;
  /** The operation creating it, which moves on by itself like a real one: see advance(). */
  creation?: OperationRecord;
  /** When a disk made under ComputeFaults.diskCreateMs turns READY. */
  readyAt?: number;
}

interface SnapshotRecord {
  id: string;
  project: string;
  name: string;
  source: { path: string; id: string };
  diskSizeGb: number;
  bytes: Buffer;
  status: 'CREATING' | 'UPLOADING' | 'READY' | 'DELETING';
  labels: Record<string, string>;
  description?: string;
  storageLocations: string[];
  snapshotType: string;
  created: string;
  /** snapshots.get calls in UPLOADING before READY. */
  uploadPolls: number;
  /** How long it uploads once created (ComputeFaults.snapshotUploadMs), and since when. */
  uploadMs?: number;
  readyAt?: number;
  stuck: boolean;
  creation?: OperationRecord;
  /** The operation deleting it; the snapshot goes away when it is DONE without error. */
  deletion?: OperationRecord;
}

interface OperationRecord {
  id: string;
  name: string;
  project: string;
  zone?: string;
  region?: string;
  operationType: 'insert' | 'delete';
  targetPath: string;
  targetId: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  insertTime: string;
  startTime?: string;
  endTime?: string;
  error?: { code: string; message: string; httpStatus: number };
  stuck: boolean;
  /** Called when the operation reaches DONE: makes the resource usable, or removes it on error. */
  finish: (error: OperationRecord['error']) => void;
}

const SNAPSHOT_QUOTA = 10_000;
const DISK_GB_QUOTA = 20_480;
const SSD_TYPES = new Set(['pd-ssd', 'pd-balanced']);

export const diskPathOf = (a: DiskAddress): string =>
  `projects/${a.project}/${a.zone ? `zones/${a.zone}` : `regions/${a.region ?? ''}`}/disks/${a.name}`;
export const snapshotPathOf = (project: string, name: string): string =>
  `projects/${project}/global/snapshots/${name}`;
const regionOf = (zone: string): string => zone.slice(0, zone.lastIndexOf('-'));
const last = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
/** `https://.../projects/p/zones/z/disks/d` or `projects/p/...` -> `projects/p/...`. */
export const pathOf = (url: string): string =>
  url.includes('projects/') ? url.slice(url.indexOf('projects/')) : url;

export class ComputeState {
  private readonly disks = new Map<string, DiskRecord>();
  private readonly snapshots = new Map<string, SnapshotRecord>();
  private readonly operations = new Map<string, OperationRecord>();
  faults: ComputeFaults = {};
  /** Resources actually created through the API (not seeded), to prove "one per request". */
  readonly created = { snapshots: 0, disks: 0 };
  /** Resources actually deleted through the API (their delete operation DONE without error). */
  readonly deleted = { snapshots: 0, disks: 0 };

  seedDisk(seed: SeedDisk): void {
    const replicaZones = seed.replicaZones ?? [];
    this.disks.set(diskPathOf(seed), {
      id: newId(),
      address: {
        project: seed.project,
        name: seed.name,
        ...(seed.zone ? { zone: seed.zone } : { region: seed.region ?? '' }),
      },
      replicaZones,
      sizeGb: seed.sizeGb ?? 10,
      type: seed.type ?? 'pd-balanced',
      bytes: Buffer.from(seed.bytes ?? Buffer.alloc(0)),
      status: 'READY',
      labels: {},
      created: timestamp(),
    });
  }

  seedSnapshot(seed: SeedSnapshot): void {
    const source = seed.sourceDisk ?? {
      project: seed.project,
      zone: 'us-central1-a',
      name: `${seed.name.slice(0, 50)}-source`,
    };
    const bytes = Buffer.from(seed.bytes ?? Buffer.alloc(0));
    this.snapshots.set(snapshotPathOf(seed.project, seed.name), {
      id: newId(),
      project: seed.project,
      name: seed.name,
      source: { path: diskPathOf(source), id: this.diskRecord(source)?.id ?? newId() },
      diskSizeGb: 10,
      bytes,
      status: 'READY',
      labels: { ...seed.labels },
      storageLocations: ['us'],
      snapshotType: 'STANDARD',
      created: timestamp(),
      uploadPolls: 0,
      stuck: false,
    });
  }

  diskRecord(address: DiskAddress): DiskRecord | undefined {
    return this.disks.get(diskPathOf(address));
  }

  snapshotRecord(project: string, name: string): SnapshotRecord | undefined {
    return this.snapshots.get(snapshotPathOf(project, name));
  }

  allSnapshots(): SnapshotRecord[] {
    return [...this.snapshots.values()];
  }

  allDisks(): DiskRecord[] {
    return [...this.disks.values()];
  }

  // ---- disks ----

  getDisk(address: DiskAddress): Json {
    this.progress(this.disks.get(diskPathOf(address))?.creation);
    const disk = this.disks.get(diskPathOf(address));
    if (!disk) throw new ApiFailure(notFound(diskPathOf(address)));
    if (disk.readyAt !== undefined && Date.now() < disk.readyAt) {
      return diskJson({ ...disk, status: 'CREATING' });
    }
    return diskJson(disk);
  }

  insertDisk(project: string, scope: { zone: string } | { region: string }, body: Json): Json {
    const name = checkName(body['name']);
    const address: DiskAddress = { project, name, ...scope };
    const path = diskPathOf(address);
    const location = 'zone' in scope ? `zones/${scope.zone}` : `regions/${scope.region}`;
    const type = diskType(body['type'], project, location);
    const replicaZones =
      'region' in scope ? this.replicaZones(body['replicaZones'], project, scope.region) : [];
    const sourcePath =
      typeof body['sourceSnapshot'] === 'string' ? pathOf(body['sourceSnapshot']) : undefined;
    const snapshot = sourcePath ? this.snapshots.get(sourcePath) : undefined;
    if (sourcePath && (!snapshot || snapshot.status !== 'READY'))
      throw new ApiFailure(notFound(sourcePath));
    const sizeGb =
      body['sizeGb'] === undefined ? (snapshot?.diskSizeGb ?? 10) : Number(body['sizeGb']);
    if (!Number.isInteger(sizeGb) || sizeGb < 1)
      throw new ApiFailure(invalid('resource.sizeGb', `'${String(body['sizeGb'])}'`));
    if (snapshot && sizeGb < snapshot.diskSizeGb) {
      throw new ApiFailure(
        invalid(
          'resource.sizeGb',
          `Requested disk size cannot be smaller than the snapshot size (${snapshot.diskSizeGb} GB).`,
        ),
      );
    }
    if (this.disks.has(path)) throw new ApiFailure(alreadyExists(path));
    const region = 'zone' in scope ? regionOf(scope.zone) : scope.region;
    if (this.faults.diskQuotaExhausted) {
      throw new ApiFailure(
        quotaExceeded(
          SSD_TYPES.has(type) ? 'SSD_TOTAL_GB' : 'DISKS_TOTAL_GB',
          DISK_GB_QUOTA,
          `in region ${region}`,
        ),
      );
    }
    const disk: DiskRecord = {
      id: newId(),
      address,
      replicaZones,
      sizeGb,
      type,
      bytes: Buffer.from(snapshot?.bytes ?? Buffer.alloc(0)),
      status: 'CREATING',
      labels: checkLabels(body['labels']),
      ...(typeof body['description'] === 'string' ? { description: body['description'] } : {}),
      ...(snapshot && sourcePath ? { sourceSnapshot: { path: sourcePath, id: snapshot.id } } : {}),
      created: timestamp(),
    };
    this.disks.set(path, disk);
    const createMs = this.faults.diskCreateMs;
    return this.startInsert(project, scope, path, disk, (error) => {
      if (error) this.disks.delete(path);
      else {
        if (createMs !== undefined) disk.readyAt = Date.now() + createMs;
        disk.status = 'READY';
        this.created.disks += 1;
      }
    });
  }

  /**
   * disks.delete and regionDisks.delete: a zone or region operation; the
   * disk is DELETING until it is DONE, then gone. Refused (400, as the API
   * does) while the disk is still being created.
   */
  deleteDisk(address: DiskAddress): Json {
    const path = diskPathOf(address);
    const disk = this.disks.get(path);
    if (!disk) throw new ApiFailure(notFound(path));
    if (disk.status !== 'READY') throw new ApiFailure(notReady(path));
    const scope = address.zone ? { zone: address.zone } : { region: address.region ?? '' };
    disk.status = 'DELETING';
    const operation = this.startOperation(address.project, scope, path, disk, 'delete', (error) => {
      if (error) disk.status = 'READY';
      else {
        this.disks.delete(path);
        this.deleted.disks += 1;
      }
    });
    return operationJson(operation);
  }

  private replicaZones(value: unknown, project: string, region: string): string[] {
    const zones = Array.isArray(value) ? value.map((z) => last(pathOf(String(z)))) : [];
    const paths = Array.isArray(value) ? value.map((z) => pathOf(String(z))) : [];
    const ok =
      zones.length === 2 &&
      zones[0] !== zones[1] &&
      zones.every((z) => regionOf(z) === region) &&
      paths.every((p) => p.startsWith(`projects/${project}/zones/`));
    if (!ok) {
      throw new ApiFailure(
        invalid(
          'resource.replicaZones',
          `a regional disk needs exactly two distinct zones of region ${region}: ${JSON.stringify(value)}`,
        ),
      );
    }
    return zones;
  }

  // ---- snapshots ----

  getSnapshot(project: string, name: string): Json {
    this.progress(this.snapshots.get(snapshotPathOf(project, name))?.creation);
    this.progress(this.snapshots.get(snapshotPathOf(project, name))?.deletion);
    const snapshot = this.snapshots.get(snapshotPathOf(project, name));
    if (!snapshot) throw new ApiFailure(notFound(snapshotPathOf(project, name)));
    if (snapshot.status === 'UPLOADING') {
      const uploaded = snapshot.readyAt === undefined || Date.now() >= snapshot.readyAt;
      if (snapshot.uploadPolls <= 0 && uploaded) snapshot.status = 'READY';
      snapshot.uploadPolls -= 1;
    }
    return snapshotJson(snapshot);
  }

  insertSnapshot(project: string, body: Json): Json {
    const name = checkName(body['name']);
    const path = snapshotPathOf(project, name);
    const sourcePath = typeof body['sourceDisk'] === 'string' ? pathOf(body['sourceDisk']) : '';
    if (sourcePath === '')
      throw new ApiFailure(invalid('resource.sourceDisk', 'a source is required'));
    const disk = this.disks.get(sourcePath);
    if (!disk) throw new ApiFailure(notFound(sourcePath));
    const snapshotType =
      body['snapshotType'] === undefined ? 'STANDARD' : String(body['snapshotType']);
    if (snapshotType !== 'STANDARD' && snapshotType !== 'ARCHIVE') {
      throw new ApiFailure(invalid('resource.snapshotType', `'${snapshotType}'`));
    }
    const labels = checkLabels(body['labels']);
    if (this.snapshots.has(path)) throw new ApiFailure(alreadyExists(path));
    if (this.faults.snapshotQuotaExhausted || this.faults.snapshotInsertQuotaExceeded) {
      throw new ApiFailure(quotaExceeded('SNAPSHOTS', SNAPSHOT_QUOTA, 'globally'));
    }
    const storageLocations = Array.isArray(body['storageLocations'])
      ? body['storageLocations'].map(String)
      : ['us'];
    const snapshot: SnapshotRecord = {
      id: newId(),
      project,
      name,
      source: { path: sourcePath, id: disk.id },
      diskSizeGb: disk.sizeGb,
      // Point in time: the bytes as they are when the insert is accepted.
      bytes: Buffer.from(disk.bytes),
      status: 'CREATING',
      labels,
      ...(typeof body['description'] === 'string' ? { description: body['description'] } : {}),
      storageLocations,
      snapshotType,
      created: timestamp(),
      uploadPolls: 1,
      stuck: this.faults.snapshotStuckCreating === true,
      ...(this.faults.snapshotUploadMs ? { uploadMs: this.faults.snapshotUploadMs } : {}),
    };
    this.snapshots.set(path, snapshot);
    return this.startInsert(project, {}, path, snapshot, (error) => {
      if (error) this.snapshots.delete(path);
      else {
        this.created.snapshots += 1;
        if (!snapshot.stuck) snapshot.status = 'UPLOADING';
        if (snapshot.uploadMs !== undefined) snapshot.readyAt = Date.now() + snapshot.uploadMs;
      }
    });
  }

  /**
   * snapshots.delete: a global operation; the snapshot is DELETING until it
   * is DONE, then gone. Refused (400, as the API does) while a disk is being
   * created from it or while it is not READY (creating, uploading, already
   * being deleted).
   */
  deleteSnapshot(project: string, name: string): Json {
    const path = snapshotPathOf(project, name);
    const snapshot = this.snapshots.get(path);
    if (!snapshot) throw new ApiFailure(notFound(path));
    const restoring = [...this.disks.values()].find(
      (d) => d.status === 'CREATING' && d.sourceSnapshot?.path === path,
    );
    if (restoring) throw new ApiFailure(inUse('snapshot', path, diskPathOf(restoring.address)));
    if (snapshot.status !== 'READY') throw new ApiFailure(notReady(path));
    snapshot.status = 'DELETING';
    const operation = this.startOperation(project, {}, path, snapshot, 'delete', (error) => {
      if (error) snapshot.status = 'READY';
      else {
        this.snapshots.delete(path);
        this.deleted.snapshots += 1;
      }
    });
    snapshot.deletion = operation;
    return operationJson(operation);
  }

  // ---- projects and regions ----

  getProject(project: string): Json {
    const usage = [...this.snapshots.values()].filter((s) => s.project === project).length;
    const limit = this.faults.snapshotQuotaExhausted ? usage : SNAPSHOT_QUOTA;
    return {
      kind: 'compute#project',
      id: newId(),
      name: project,
      creationTimestamp: timestamp(),
      selfLink: link(`projects/${project}`),
      defaultNetworkTier: 'PREMIUM',
      xpnProjectStatus: 'UNSPECIFIED_XPN_PROJECT_STATUS',
      quotas: [
        { metric: 'SNAPSHOTS', limit, usage },
        { metric: 'NETWORKS', limit: 15, usage: 1 },
      ],
    };
  }

  getRegion(project: string, region: string): Json {
    const inRegion = [...this.disks.values()].filter(
      (d) =>
        d.address.project === project &&
        (d.address.region ?? regionOf(d.address.zone ?? '')) === region,
    );
    const used = (ssd: boolean): number =>
      inRegion.filter((d) => SSD_TYPES.has(d.type) === ssd).reduce((sum, d) => sum + d.sizeGb, 0);
    const limit = (usage: number): number =>
      this.faults.diskQuotaExhausted ? usage : DISK_GB_QUOTA;
    return {
      kind: 'compute#region',
      id: newId(),
      name: region,
      status: 'UP',
      selfLink: link(`projects/${project}/regions/${region}`),
      zones: ['a', 'b', 'c'].map((z) => link(`projects/${project}/zones/${region}-${z}`)),
      quotas: [
        { metric: 'SSD_TOTAL_GB', limit: limit(used(true)), usage: used(true) },
        { metric: 'DISKS_TOTAL_GB', limit: limit(used(false)), usage: used(false) },
      ],
    };
  }

  // ---- operations ----

  private startOperation(
    project: string,
    scope: { zone?: string; region?: string },
    targetPath: string,
    target: { id: string },
    operationType: OperationRecord['operationType'],
    finish: OperationRecord['finish'],
  ): OperationRecord {
    const fault = this.faults.operationError;
    const operation: OperationRecord = {
      id: newId(),
      name: `operation-${Date.now()}-${newId().slice(-8)}`,
      project,
      ...scope,
      operationType,
      targetPath,
      targetId: target.id,
      status: 'PENDING',
      stuck: this.faults.operationStuckRunning === true,
      insertTime: timestamp(),
      ...(fault
        ? {
            error: {
              code: fault.code,
              message: fault.message,
              httpStatus: fault.httpStatus ?? 400,
            },
          }
        : {}),
      finish,
    };
    this.operations.set(operationPath(operation), operation);
    return operation;
  }

  /** Starts the operation inserting `target`, which moves on when the resource is looked at. */
  private startInsert(
    project: string,
    scope: { zone?: string; region?: string },
    targetPath: string,
    target: { id: string; creation?: OperationRecord },
    finish: OperationRecord['finish'],
  ): Json {
    const operation = this.startOperation(project, scope, targetPath, target, 'insert', finish);
    target.creation = operation;
    return operationJson(operation);
  }

  /** operations.get and operations.wait: each look advances the operation one step. */
  lookAtOperation(project: string, scope: { zone?: string; region?: string }, name: string): Json {
    const path = operationPath({ project, ...scope, name });
    const operation = this.operations.get(path);
    if (!operation) throw new ApiFailure(notFound(path));
    this.progress(operation);
    return operationJson(operation);
  }

  /**
   * One step PENDING -> RUNNING -> DONE. Taken whenever a client looks at the
   * operation or at the resource it creates, so an operation whose starter
   * went away (a function killed mid-way) still finishes, as a real one does.
   */
  private progress(operation: OperationRecord | undefined): void {
    if (!operation) return;
    if (operation.status === 'PENDING') {
      operation.status = 'RUNNING';
      operation.startTime = timestamp();
    } else if (operation.status === 'RUNNING' && !operation.stuck) {
      operation.status = 'DONE';
      operation.endTime = timestamp();
      operation.finish(operation.error);
    }
  }
}

function operationPath(o: {
  project: string;
  zone?: string;
  region?: string;
  name: string;
}): string {
  const scope = o.zone ? `zones/${o.zone}` : o.region ? `regions/${o.region}` : 'global';
  return `projects/${o.project}/${scope}/operations/${o.name}`;
}

function diskType(value: unknown, project: string, location: string): string {
  if (value === undefined) return 'pd-standard';
  const path = pathOf(String(value));
  const match = /^projects\/([^/]+)\/(zones|regions)\/([^/]+)\/diskTypes\/([a-z0-9-]+)$/.exec(path);
  if (
    !match ||
    `projects/${match[1] ?? ''}/${match[2] ?? ''}/${match[3] ?? ''}` !==
      `projects/${project}/${location}`
  ) {
    throw new ApiFailure(
      invalid('resource.type', `'${String(value)}' is not a disk type of ${location}`),
    );
  }
  return match[4] ?? 'pd-standard';
}

function diskJson(d: DiskRecord): Json {
  const scope = d.address.zone
    ? { zone: link(`projects/${d.address.project}/zones/${d.address.zone}`) }
    : {
        region: link(`projects/${d.address.project}/regions/${d.address.region ?? ''}`),
        replicaZones: d.replicaZones.map((z) => link(`projects/${d.address.project}/zones/${z}`)),
      };
  const location = d.address.zone ? `zones/${d.address.zone}` : `regions/${d.address.region ?? ''}`;
  return {
    kind: 'compute#disk',
    id: d.id,
    creationTimestamp: d.created,
    name: d.address.name,
    ...(d.description ? { description: d.description } : {}),
    sizeGb: String(d.sizeGb),
    ...scope,
    status: d.status,
    ...(d.sourceSnapshot
      ? { sourceSnapshot: link(d.sourceSnapshot.path), sourceSnapshotId: d.sourceSnapshot.id }
      : {}),
    selfLink: link(diskPathOf(d.address)),
    type: link(`projects/${d.address.project}/${location}/diskTypes/${d.type}`),
    labels: d.labels,
    labelFingerprint: '42WmSpB8rSM=',
    physicalBlockSizeBytes: '4096',
  };
}

function snapshotJson(s: SnapshotRecord): Json {
  return {
    kind: 'compute#snapshot',
    id: s.id,
    creationTimestamp: s.created,
    name: s.name,
    ...(s.description ? { description: s.description } : {}),
    status: s.status,
    sourceDisk: link(s.source.path),
    sourceDiskId: s.source.id,
    diskSizeGb: String(s.diskSizeGb),
    storageBytes: String(s.bytes.length),
    storageBytesStatus: s.status === 'READY' ? 'UP_TO_DATE' : 'UPDATING',
    // Like the API, no labels field at all for a snapshot without labels.
    ...(Object.keys(s.labels).length > 0 ? { labels: s.labels } : {}),
    labelFingerprint: 'vezUS-42LLM=',
    storageLocations: s.storageLocations,
    snapshotType: s.snapshotType,
    selfLink: link(snapshotPathOf(s.project, s.name)),
  };
}

function operationJson(o: OperationRecord): Json {
  const done = o.status === 'DONE';
  return {
    kind: 'compute#operation',
    id: o.id,
    name: o.name,
    operationType: o.operationType,
    targetLink: link(o.targetPath),
    targetId: o.targetId,
    status: o.status,
    user: 'lifeboat@stand-in.iam.gserviceaccount.com',
    progress: done ? 100 : 0,
    insertTime: o.insertTime,
    ...(o.startTime ? { startTime: o.startTime } : {}),
    ...(o.endTime ? { endTime: o.endTime } : {}),
    selfLink: link(operationPath(o)),
    ...(o.zone ? { zone: link(`projects/${o.project}/zones/${o.zone}`) } : {}),
    ...(o.region ? { region: link(`projects/${o.project}/regions/${o.region}`) } : {}),
    ...(done && o.error
      ? {
          error: { errors: [{ code: o.error.code, message: o.error.message }] },
          httpErrorStatusCode: o.error.httpStatus,
          httpErrorMessage: o.error.httpStatus === 403 ? 'FORBIDDEN' : 'BAD REQUEST',
        }
      : {}),
  };
}
