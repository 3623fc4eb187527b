import {
  DisksClient,
  GlobalOperationsClient,
  RegionDisksClient,
  RegionOperationsClient,
  ZoneOperationsClient,
} from '@google-cloud/compute';
import {
  computeClientOptions,
  type ComputeClientOptions,
} from '../disks/compute-client-options.js';
import type { Deadline } from '../time/deadline.js';
import { classifyComputeError } from '../disks/gce-errors.js';
import { OperationWaiter } from '../disks/gce-operations.js';
import { labelValue } from '../disks/names.js';
import { resourcePath } from '../disks/zones.js';
import { PermanentError } from '../errors.js';

/** The label every disk a restore makes carries (its value: the restore id, as a label value). */
export const RESTORE_DISK_LABEL = 'lifeboat-restore';

/** A disk as a drill needs to see it: whose it is and what it was made from. */
export interface DrillDisk {
  path: string;
  labels: Record<string, string>;
  /** `projects/P/global/snapshots/S`, when it was made from a snapshot. */
  sourceSnapshot?: string;
}

/** The Compute Engine disks of a drill: looked at, and deleted only when the drill made them. */
export interface DrillDisks {
  get(path: string): Promise<DrillDisk | undefined>;
  /**
   * Deletes a disk the restore `restoreId` made and waits until it is gone;
   * refuses (DrillSafetyError-like PermanentError) one without that restore's label.
   * A disk that does not exist is no error.
   */
  delete(path: string, restoreId: string, deadline: Deadline): Promise<'deleted' | 'absent'>;
  close(): Promise<void>;
}

interface DiskAddress {
  project: string;
  zone?: string;
  region?: string;
  name: string;
}

/** `projects/P/zones/Z/disks/N` (or regions/R) to its parts; anything else is refused. */
export function parseDiskPath(path: string): DiskAddress {
  const m = /^projects\/([^/]+)\/(zones|regions)\/([^/]+)\/disks\/([^/]+)$/.exec(
    resourcePath(path),
  );
  if (!m) throw new PermanentError(`not a Compute Engine disk path: ${path}`);
  const [, project = '', scope, where = '', name = ''] = m;
  return scope === 'zones' ? { project, zone: where, name } : { project, region: where, name };
}

/** DrillDisks through the real `@google-cloud/compute` clients. */
export class GceDrillDisks implements DrillDisks {
  private readonly disks: DisksClient;
  private readonly regionDisks: RegionDisksClient;
  private readonly operations: OperationWaiter;
  private readonly clients: { close(): Promise<void> }[];

  constructor(client: ComputeClientOptions = computeClientOptions(), pollIntervalMs = 1000) {
    const opts = (): ComputeClientOptions => ({ ...client });
    this.disks = new DisksClient(opts());
    this.regionDisks = new RegionDisksClient(opts());
    const global = new GlobalOperationsClient(opts());
    const zone = new ZoneOperationsClient(opts());
    const region = new RegionOperationsClient(opts());
    this.operations = new OperationWaiter({ global, zone, region }, pollIntervalMs);
    this.clients = [this.disks, this.regionDisks, global, zone, region];
  }

  async get(path: string): Promise<DrillDisk | undefined> {
    const a = parseDiskPath(path);
    try {
      const [disk] = a.zone
        ? await this.disks.get({ project: a.project, zone: a.zone, disk: a.name })
        : await this.regionDisks.get({ project: a.project, region: a.region ?? '', disk: a.name });
      return {
        path: resourcePath(path),
        labels: { ...(disk.labels ?? {}) },
        ...(disk.sourceSnapshot ? { sourceSnapshot: resourcePath(disk.sourceSnapshot) } : {}),
      };
    } catch (error) {
      if (classifyComputeError(error).kind === 'not-found') return undefined;
      throw error;
    }
  }

  async delete(path: string, restoreId: string, deadline: Deadline): Promise<'deleted' | 'absent'> {
    const found = await this.get(path);
    if (!found) return 'absent';
    if (found.labels[RESTORE_DISK_LABEL] !== labelValue(restoreId)) {
      throw new PermanentError(
        `refusing to delete disk ${path}: it does not carry ${RESTORE_DISK_LABEL}=${labelValue(restoreId)}, so this drill did not make it`,
      );
    }
    const a = parseDiskPath(path);
    let started;
    try {
      [started] = a.zone
        ? await this.disks.delete({ project: a.project, zone: a.zone, disk: a.name })
        : await this.regionDisks.delete({
            project: a.project,
            region: a.region ?? '',
            disk: a.name,
          });
    } catch (error) {
      if (classifyComputeError(error).kind === 'not-found') return 'absent';
      throw error;
    }
    const operation = (started as { latestResponse?: object }).latestResponse ?? started;
    const result = await this.operations.wait(a.project, operation, deadline);
    if (!result.done)
      throw new Error(`disk ${path}: its deletion was still running at the deadline`);
    const error = result.operation.error?.errors?.[0];
    if (error)
      throw new Error(`disk ${path}: deletion failed: ${error.code ?? ''} ${error.message ?? ''}`);
    return 'deleted';
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}
