import type { CustomObjectsApi, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { VolumeEntry } from '../catalog/catalog-schema.js';
import { errorMessage, isRetryable, statusOf } from '../errors.js';
import type { Deadline } from '../time/deadline.js';
import { poll } from '../time/retry.js';
import type { CaptureHooks, Failed } from './disk-snapshotter.js';
import { derivedName, volumeSnapshotNameFor } from './names.js';
import { rewritePersistentVolumeClaim } from './pv-rewrite.js';

/**
 * The CSI path, for volumes whose driver is not the GCE PD driver: a
 * `snapshot.storage.k8s.io/v1` VolumeSnapshot of the claim, taken by the
 * cluster's snapshot controller and the driver's csi-snapshotter sidecar.
 *
 * Mind the class's deletionPolicy: with Delete, deleting the VolumeSnapshot
 * (or its namespace) deletes the data. A class meant for Lifeboat should say
 * Retain, so the snapshot outlives the cluster it came from.
 */

export const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';
export const SNAPSHOT_VERSION = 'v1';
const API_VERSION = `${SNAPSHOT_GROUP}/${SNAPSHOT_VERSION}`;

export type CsiSnapshotRef = NonNullable<VolumeEntry['csiSnapshot']>;

interface SnapshotError {
  message?: string;
}

export interface VolumeSnapshot {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: {
    volumeSnapshotClassName?: string;
    source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string };
  };
  status?: {
    boundVolumeSnapshotContentName?: string;
    /** Set by the snapshot controller once the storage system has cut the snapshot. */
    creationTime?: string;
    readyToUse?: boolean;
    restoreSize?: string;
    error?: SnapshotError;
  };
}

export interface VolumeSnapshotContent {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    driver: string;
    deletionPolicy: 'Delete' | 'Retain';
    source: { snapshotHandle?: string; volumeHandle?: string };
    volumeSnapshotRef: { namespace: string; name: string };
    volumeSnapshotClassName?: string;
  };
  status?: {
    snapshotHandle?: string;
    readyToUse?: boolean;
    restoreSize?: number;
    error?: SnapshotError;
  };
}

/**
 * The calls the CSI path makes: a CustomObjectsApi, or any client with the
 * same calls (a drill's, whose writes are guarded).
 */
export type CustomObjectsClient = Pick<
  CustomObjectsApi,
  | 'createClusterCustomObject'
  | 'createNamespacedCustomObject'
  | 'getClusterCustomObject'
  | 'getNamespacedCustomObject'
>;

export interface CsiSnapshotRequest {
  backupId: string;
  namespace: string;
  pvcName: string;
  volumeSnapshotClass: string;
  deadline: Deadline;
  /** Run around the cut, only when this call creates the VolumeSnapshot (see CaptureHooks). */
  hooks?: CaptureHooks;
}

export type CsiSnapshotOutcome =
  { status: 'READY'; csiSnapshot: CsiSnapshotRef; driver: string; created: boolean } | Failed;

export interface CsiRestoreRequest {
  restoreId: string;
  snapshot: CsiSnapshotRef;
  /** The CSI driver that made the snapshot (the catalog entry's driver). */
  driver: string;
  /** The claim as backed up (sanitised JSON), and where it goes. */
  pvc: V1PersistentVolumeClaim;
  namespace: string;
  deadline: Deadline;
}

export type CsiRestoreOutcome =
  | {
      status: 'READY';
      /** The claim to create: it restores through `dataSource` -> the VolumeSnapshot. */
      pvc: V1PersistentVolumeClaim;
      volumeSnapshot: string;
      volumeSnapshotContent: string;
    }
  | Failed;

export class CsiSnapshotter {
  private readonly pollIntervalMs: number;

  constructor(
    private readonly api: CustomObjectsClient,
    options: { pollIntervalMs?: number } = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
  }

  /**
   * Creates a VolumeSnapshot of the claim (or adopts the one an earlier
   * delivery created under the same derived name), waits until readyToUse,
   * and reads the bound VolumeSnapshotContent's snapshotHandle: the handle is
   * what a restore in another cluster needs.
   */
  async snapshotClaim(request: CsiSnapshotRequest): Promise<CsiSnapshotOutcome> {
    const { namespace, pvcName, deadline } = request;
    const name = volumeSnapshotNameFor(request.backupId, namespace, pvcName);
    const what = `VolumeSnapshot ${namespace}/${name} of PVC ${pvcName}`;
    try {
      const body: VolumeSnapshot = {
        apiVersion: API_VERSION,
        kind: 'VolumeSnapshot',
        metadata: { name, namespace, labels: { 'lifeboat.dev/backup': request.backupId } },
        spec: {
          volumeSnapshotClassName: request.volumeSnapshotClass,
          source: { persistentVolumeClaimName: pvcName },
        },
      };
      const { hooks } = request;
      let created = false;
      // An existing VolumeSnapshot was cut by whoever created it: adopt it, no hook runs.
      if (!(await this.find(namespace, name))) {
        if (hooks && !(await hooks.pre())) {
          return {
            status: 'FAILED',
            reason: `${what}: not taken: a pre hook failed`,
            retryable: false,
          };
        }
        try {
          created = await this.createOrAdopt(() =>
            this.api.createNamespacedCustomObject({ ...this.snapshots(namespace), body }),
          );
          await this.waitCut(deadline, namespace, name);
        } finally {
          // The cut is made: unfreeze now, not once the snapshot is readyToUse.
          await hooks?.post();
        }
      }
      const ready = await this.waitReady(what, deadline, namespace, name);
      if ('status' in ready) return ready;
      const { snapshot } = ready;
      if (snapshot.spec.source.persistentVolumeClaimName !== pvcName) {
        return {
          status: 'FAILED',
          reason: `${what}: the name is taken by a snapshot of another claim`,
          retryable: false,
        };
      }
      const contentName = snapshot.status?.boundVolumeSnapshotContentName ?? '';
      const content = (await this.api.getClusterCustomObject({
        ...this.contents(),
        name: contentName,
      })) as VolumeSnapshotContent;
      const handle = content.status?.snapshotHandle;
      if (!handle) {
        return {
          status: 'FAILED',
          reason: `${what}: content ${contentName} has no snapshotHandle`,
          retryable: true,
        };
      }
      const restoreSize = snapshot.status?.restoreSize;
      return {
        status: 'READY',
        csiSnapshot: {
          volumeSnapshotClass: request.volumeSnapshotClass,
          namespace,
          name,
          snapshotHandle: handle,
          ...(restoreSize ? { restoreSize } : {}),
        },
        driver: content.spec.driver,
        created,
      };
    } catch (error) {
      return failed(what, error);
    }
  }

  /**
   * Recreates the snapshot in the target cluster as a pre-provisioned pair:
   * a VolumeSnapshotContent with the recorded snapshotHandle (deletionPolicy
   * Retain, so a restore never deletes backup data) and a VolumeSnapshot
   * bound to it. Waits until the snapshot controller says readyToUse, then
   * returns the claim to create, whose dataSource is that VolumeSnapshot.
   */
  async restoreClaim(request: CsiRestoreRequest): Promise<CsiRestoreOutcome> {
    const { snapshot, namespace, deadline } = request;
    const pvcName = request.pvc.metadata?.name ?? '';
    const identity = `${request.restoreId}/${snapshot.namespace}/${snapshot.name}`;
    const snapshotName = derivedName('lbr', [request.restoreId, pvcName], identity);
    const contentName = derivedName(
      'lbr',
      [request.restoreId, namespace, pvcName],
      `content/${identity}`,
    );
    const what = `VolumeSnapshot ${namespace}/${snapshotName} for PVC ${pvcName}`;
    const labels = { 'lifeboat.dev/restore': request.restoreId };
    try {
      const content: VolumeSnapshotContent = {
        apiVersion: API_VERSION,
        kind: 'VolumeSnapshotContent',
        metadata: { name: contentName, labels },
        spec: {
          driver: request.driver,
          deletionPolicy: 'Retain',
          source: { snapshotHandle: snapshot.snapshotHandle },
          volumeSnapshotRef: { namespace, name: snapshotName },
          volumeSnapshotClassName: snapshot.volumeSnapshotClass,
        },
      };
      await this.createOrAdopt(() =>
        this.api.createClusterCustomObject({ ...this.contents(), body: content }),
      );
      const volumeSnapshot: VolumeSnapshot = {
        apiVersion: API_VERSION,
        kind: 'VolumeSnapshot',
        metadata: { name: snapshotName, namespace, labels },
        spec: {
          volumeSnapshotClassName: snapshot.volumeSnapshotClass,
          source: { volumeSnapshotContentName: contentName },
        },
      };
      await this.createOrAdopt(() =>
        this.api.createNamespacedCustomObject({
          ...this.snapshots(namespace),
          body: volumeSnapshot,
        }),
      );
      const ready = await this.waitReady(what, deadline, namespace, snapshotName);
      if ('status' in ready) return ready;
      const pvc = rewritePersistentVolumeClaim(request.pvc, {
        namespace,
        dataSource: { apiGroup: SNAPSHOT_GROUP, kind: 'VolumeSnapshot', name: snapshotName },
      });
      return {
        status: 'READY',
        pvc,
        volumeSnapshot: snapshotName,
        volumeSnapshotContent: contentName,
      };
    } catch (error) {
      return failed(what, error);
    }
  }

  /** True when this call created the object, false when it already existed (409). */
  private async createOrAdopt(create: () => Promise<unknown>): Promise<boolean> {
    try {
      await create();
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }

  private async find(namespace: string, name: string): Promise<VolumeSnapshot | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject({
        ...this.snapshots(namespace),
        name,
      })) as VolumeSnapshot;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Until the controller says the snapshot is cut (or failed), or the deadline. */
  private async waitCut(deadline: Deadline, namespace: string, name: string): Promise<void> {
    await poll(deadline, this.pollIntervalMs, async () => {
      const status = (await this.find(namespace, name))?.status;
      return status?.creationTime || status?.readyToUse || status?.error ? true : undefined;
    });
  }

  private async waitReady(
    what: string,
    deadline: Deadline,
    namespace: string,
    name: string,
  ): Promise<{ snapshot: VolumeSnapshot } | Failed> {
    const settled = await poll(
      deadline,
      this.pollIntervalMs,
      async (): Promise<{ snapshot: VolumeSnapshot } | Failed | undefined> => {
        const snapshot = (await this.api.getNamespacedCustomObject({
          ...this.snapshots(namespace),
          name,
        })) as VolumeSnapshot;
        if (snapshot.status?.readyToUse === true) return { snapshot };
        // As Velero does: an error on the snapshot fails it; a redelivery looks again.
        const error = snapshot.status?.error?.message;
        if (error) return { status: 'FAILED', reason: `${what}: ${error}`, retryable: true };
        return undefined;
      },
    );
    return (
      settled ?? {
        status: 'FAILED',
        reason: `${what}: not readyToUse after ${deadline.describe()}`,
        retryable: true,
        pending: 'not readyToUse',
      }
    );
  }

  private snapshots(namespace: string): {
    group: string;
    version: string;
    namespace: string;
    plural: string;
  } {
    return {
      group: SNAPSHOT_GROUP,
      version: SNAPSHOT_VERSION,
      namespace,
      plural: 'volumesnapshots',
    };
  }

  private contents(): { group: string; version: string; plural: string } {
    return { group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: 'volumesnapshotcontents' };
  }
}

function failed(what: string, error: unknown): Failed {
  const status = statusOf(error);
  return {
    status: 'FAILED',
    reason: `${what}: ${apiMessage(error)}${status === undefined ? '' : ` (HTTP ${status})`}`,
    retryable: isRetryable(error),
  };
}

/** The API server's Status message when the client's error carries one (its own message repeats headers). */
function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  try {
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    const message = (parsed as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message;
  } catch {
    // not a Status body
  }
  return errorMessage(error);
}
