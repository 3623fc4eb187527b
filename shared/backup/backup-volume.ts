import { mapLimit } from '../concurrency.js';
import {
  CustomObjectsApi,
  type KubeConfig,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
} from '@kubernetes/client-node';
import { CsiSnapshotter } from '../disks/csi-snapshotter.js';
import { Deadline } from '../time/deadline.js';
import { Backoff } from '../time/retry.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import { podsUsingClaim } from '../disks/hooks.js';
import { KubePodExec } from '../disks/pod-exec.js';
import type { BackupFilters, BackupPolicy, ClusterRef } from '../messages/common.js';
import { getOrUndefined, KubeHttp, pathSegment } from '../kube/kube-http.js';
import { parseStoredJson, type ObjectStore } from '../store/object-store.js';
import { captureVolume } from './capture-volume.js';
import { volumeKey, writeVolumePart, type BackupPlan, type VolumePart } from './parts.js';
import { volumesToSnapshot } from './plan-volumes.js';

/**
 * The volume half of a backup: which PVs to capture, and capturing them
 * (each writes its own volume part). Implemented over the disk snapshotters.
 */
export interface VolumeBackup {
  plan(filters: BackupFilters): Promise<string[]>;
  snapshotAll(plan: BackupPlan, policy: BackupPolicy): Promise<void>;
}

/** Where a volume's snapshot stands when an invocation returns. */
export type SnapshotVolumeResult =
  | { part: VolumePart }
  /**
   * Not finished, not hopeless, and the invocation's budget is spent: the
   * job continues in a later invocation with these fields (see VolumeSnapshotJob).
   */
  | {
      handover: {
        firstAttemptAt: string;
        hookResults: { errors: string[]; warnings: string[] };
        reason: string;
      };
    };

export interface SnapshotVolumeJob {
  backupId: string;
  cluster: ClusterRef;
  policy: BackupPolicy;
  pvName: string;
  firstAttemptAt?: string;
  hookResults?: { errors: string[]; warnings: string[] };
}

/** However spent the invocation's budget, an attempt gets this long (a few API calls). */
export const MIN_ATTEMPT_MS = 5000;
const FIRST_BACKOFF_MS = 2000;
const MAX_BACKOFF_MS = 60_000;

/**
 * Captures one persistent volume and records its part: reads the PV, its
 * claim and the pods using it (for their hooks), snapshots the disk or the
 * claim, and writes the volume's catalog entry. A redelivered unit whose part
 * exists does nothing again.
 *
 * A snapshot takes as long as it takes (a first snapshot of a large disk
 * uploads for many minutes), so the wait is bounded by the policy's
 * snapshotTimeoutSeconds counted from the job's first attempt, not by one
 * invocation: when the invocation's budget (`deadline`) runs out first,
 * the result is a handover and the caller continues the job later, which
 * adopts the snapshot by its derived name. A transient failure (a 5xx, a
 * rate limit) is tried again after a backoff, within the same bound. A
 * failure that waiting cannot mend is recorded at once.
 */
export async function snapshotVolume(
  kubeConfig: KubeConfig,
  deps: { store: ObjectStore; disks: DiskSnapshotter },
  job: SnapshotVolumeJob,
  deadline: Deadline,
): Promise<SnapshotVolumeResult> {
  const key = volumeKey(job, job.pvName);
  if (await deps.store.exists(key))
    return { part: parseStoredJson(await deps.store.get(key), key) as VolumePart };
  const started = Date.now();
  // A first attempt in the future (a clock ahead, a forged job) counts from now.
  const firstAttemptAt = Math.min(started, Date.parse(job.firstAttemptAt ?? '') || started);
  const giveUpAt = firstAttemptAt + (job.policy.snapshotTimeoutSeconds ?? 480) * 1000;
  const earlier = job.hookResults ?? { errors: [], warnings: [] };
  const http = new KubeHttp(kubeConfig);
  try {
    const pv = await getOrUndefined<V1PersistentVolume>(
      http,
      `/api/v1/persistentvolumes/${pathSegment(job.pvName, 'PV name')}`,
    );
    if (!pv) {
      return {
        part: await recorded(deps.store, job, {
          pvName: job.pvName,
          volume: {
            pvName: job.pvName,
            driver: 'unknown',
            status: 'FAILED',
            reason: 'the PV was deleted before its snapshot',
          },
          errors: [
            ...earlier.errors,
            `volume ${job.pvName}: the PV was deleted before its snapshot`,
          ],
          warnings: [...earlier.warnings],
        }),
      };
    }
    const claimRef = pv.spec?.claimRef;
    const ns = claimRef?.namespace;
    const pvc =
      ns && claimRef?.name
        ? await getOrUndefined<V1PersistentVolumeClaim>(
            http,
            `/api/v1/namespaces/${pathSegment(ns, 'namespace')}/persistentvolumeclaims/${pathSegment(claimRef.name, 'claim name')}`,
          )
        : undefined;
    const pods = ns
      ? ((
          await http.request<{ items: V1Pod[] }>(
            'GET',
            `/api/v1/namespaces/${pathSegment(ns, 'namespace')}/pods`,
          )
        ).items ?? [])
      : [];
    const errors = [...earlier.errors];
    const warnings = [...earlier.warnings];
    const backoff = new Backoff(FIRST_BACKOFF_MS, MAX_BACKOFF_MS);
    for (;;) {
      const attemptEnd = Math.min(giveUpAt, deadline.atLeast(MIN_ATTEMPT_MS).at);
      const result = await captureVolume(
        {
          backupId: job.backupId,
          cluster: job.cluster,
          pv,
          ...(pvc ? { pvc } : {}),
          pods: ns && claimRef?.name ? podsUsingClaim(pods, ns, claimRef.name) : [],
          ...(job.policy.csiSnapshotClasses
            ? { csiSnapshotClasses: job.policy.csiSnapshotClasses }
            : {}),
          ...(job.policy.snapshotStorageLocations
            ? { storageLocations: job.policy.snapshotStorageLocations }
            : {}),
          ...(job.policy.snapshotType ? { snapshotType: job.policy.snapshotType } : {}),
          // "still UPLOADING after 8m" counts from the first attempt, in whichever invocation.
          deadline: Deadline.until(attemptEnd, firstAttemptAt),
        },
        {
          disks: deps.disks,
          csi: new CsiSnapshotter(kubeConfig.makeApiClient(CustomObjectsApi)),
          exec: new KubePodExec(kubeConfig),
        },
      );
      // Hooks run only in the attempt that cut the snapshot; every attempt's report is kept.
      const failure =
        result.entry.status === 'FAILED'
          ? `volume ${result.entry.pvName}: ${result.entry.reason ?? 'failed'}`
          : undefined;
      errors.push(...result.errors.filter((e) => e !== failure));
      warnings.push(...result.warnings);
      const again = result.retryable;
      const now = Date.now();
      const wait = again?.pending ? 0 : backoff.currentMs;
      if (!again || now + wait >= giveUpAt) {
        return {
          part: await recorded(deps.store, job, {
            pvName: job.pvName,
            volume: result.entry,
            errors: [...(failure ? [failure] : []), ...errors],
            warnings,
          }),
        };
      }
      if (now + wait + MIN_ATTEMPT_MS <= deadline.at) {
        await deadline.sleep(wait);
        backoff.grow();
        continue;
      }
      // Some of the backoff here, the rest in the time the next delivery takes to arrive.
      await deadline.sleep(wait);
      return {
        handover: {
          firstAttemptAt: new Date(firstAttemptAt).toISOString(),
          hookResults: { errors: errors.slice(-64), warnings: warnings.slice(-64) },
          reason: again.reason,
        },
      };
    }
  } finally {
    http.close();
  }
}

async function recorded(
  store: ObjectStore,
  job: Pick<SnapshotVolumeJob, 'cluster' | 'backupId'>,
  part: VolumePart,
): Promise<VolumePart> {
  await writeVolumePart(store, job, part);
  return part;
}

/** One call's share of a volume's wait; the call after a handover picks the snapshot up. */
const CALL_BUDGET_MS = 6 * 60_000;

/** Volumes of an in-process backup: the same per-volume unit as the pipeline, a few at a time. */
export class DiskVolumeBackup implements VolumeBackup {
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly store: ObjectStore,
    private readonly disks: DiskSnapshotter,
  ) {}

  async plan(filters: BackupFilters): Promise<string[]> {
    const http = new KubeHttp(this.kubeConfig);
    try {
      return await volumesToSnapshot(http, filters);
    } finally {
      http.close();
    }
  }

  async snapshotAll(plan: BackupPlan, policy: BackupPolicy): Promise<void> {
    await mapLimit(plan.volumes, 4, async (pvName) => {
      // In process, a handover is taken by the next call, with the same bound as the pipeline's.
      let job: SnapshotVolumeJob = {
        backupId: plan.backupId,
        cluster: plan.cluster,
        policy,
        pvName,
      };
      for (;;) {
        const result = await snapshotVolume(
          this.kubeConfig,
          { store: this.store, disks: this.disks },
          job,
          Deadline.after(CALL_BUDGET_MS),
        );
        if ('part' in result) return;
        const { firstAttemptAt, hookResults } = result.handover;
        job = { ...job, firstAttemptAt, hookResults };
      }
    });
  }
}
