import type { Catalog } from '../catalog/catalog-schema.js';
import { mapLimit } from '../concurrency.js';
import type { Sealer } from '../crypto/sealer.js';
import { PermanentError } from '../errors.js';
import type { BackupFilters, BackupPolicy, ClusterRef } from '../messages/common.js';
import type { KubeHttp } from '../kube/kube-http.js';
import type { ObjectStore } from '../store/object-store.js';
import { emitCatalog } from './emit-catalog.js';
import { knownPacks, previousBackupId } from './known-packs.js';
import { listScopeOf, writePlan, type BackupPlan } from './parts.js';
import { DEFAULT_FILTERS, planBackup } from './plan.js';
import { runShardSegment } from './run-shard.js';
import type { VolumeBackup } from './backup-volume.js';

export interface BackupProgress {
  phase: 'plan' | 'export' | 'volumes' | 'catalog';
  objects: number;
  shardsDone: number;
  shards: number;
}

export interface InProcessBackup {
  http: KubeHttp;
  store: ObjectStore;
  sealer?: Sealer;
  encryption?: { keyId: string; wrappedBy: string };
  volumes?: VolumeBackup;
  concurrency?: number;
  onProgress?: (p: BackupProgress) => void;
  /** The time the plan and catalog record; tests of retention run a clock of their own. */
  clock?: () => Date;
}

/** A backup planned in this process: what its shards need. */
export interface StartedBackup {
  plan: BackupPlan;
  filters: BackupFilters;
  /** The previous catalog's packs, read once before any shard runs. */
  known: ReadonlySet<string>;
}

/**
 * A whole backup in one process: the same plan, shards, parts and catalog
 * as the pipeline, without the messages. Used by the CLI's local mode and
 * the benchmarks; its stages are exported so tests can interleave other
 * work (a retention sweep, another backup) between them.
 */
export async function runBackup(
  deps: InProcessBackup,
  job: { backupId: string; cluster: ClusterRef; policy: BackupPolicy },
): Promise<{ catalog: Catalog; uploadedBytes: number }> {
  const started = await startBackup(deps, job);
  const progress: BackupProgress = {
    phase: 'export',
    objects: 0,
    shardsDone: 0,
    shards: started.plan.shards.length,
  };
  deps.onProgress?.({ ...progress, phase: 'plan' });
  let uploadedBytes = 0;
  await mapLimit(started.plan.shards, deps.concurrency ?? 4, async (shard) => {
    // Awaited first: `x += await y` would read x before the other shards added to it.
    const bytes = await exportShardInProcess(deps, started, shard, progress);
    uploadedBytes += bytes;
    progress.shardsDone += 1;
    deps.onProgress?.({ ...progress });
  });
  if (deps.volumes && started.plan.volumes.length > 0) {
    deps.onProgress?.({ ...progress, phase: 'volumes' });
    await deps.volumes.snapshotAll(started.plan, job.policy);
  }
  deps.onProgress?.({ ...progress, phase: 'catalog' });
  return { catalog: await finishBackup(deps, job), uploadedBytes };
}

/** Plans the backup, writes the plan, and reads the packs it may reuse. */
export async function startBackup(
  deps: InProcessBackup,
  job: { backupId: string; cluster: ClusterRef; policy: BackupPolicy },
): Promise<StartedBackup> {
  const filters = job.policy.filters ?? DEFAULT_FILTERS;
  const volumeNames =
    job.policy.snapshotVolumes && deps.volumes ? await deps.volumes.plan(filters) : [];
  const plan = await writePlan(
    deps.store,
    await planBackup(deps.http, {
      backupId: job.backupId,
      cluster: job.cluster,
      policy: job.policy,
      filters,
      volumes: volumeNames,
      previousBackupId: await previousBackupId(deps.store, job.cluster),
      ...(deps.clock ? { startedAt: deps.clock().toISOString() } : {}),
    }),
  );
  return { plan, filters, known: await knownPacks(deps.store, job.cluster, plan.previousBackupId) };
}

/** Exports one shard, segment after segment; returns the bytes uploaded. */
export async function exportShardInProcess(
  deps: InProcessBackup,
  started: StartedBackup,
  shard: BackupPlan['shards'][number],
  progress?: BackupProgress,
): Promise<number> {
  let segment = 0;
  let start;
  let counted = 0;
  let uploadedBytes = 0;
  for (;;) {
    const ctx = {
      http: deps.http,
      store: deps.store,
      filters: started.filters,
      knownPacks: started.known,
      ...listScopeOf(started.plan),
      ...(deps.sealer ? { sealer: deps.sealer } : {}),
      onProgress: (n: number) => {
        if (!progress) return;
        progress.objects += n - counted;
        counted = n;
        deps.onProgress?.({ ...progress });
      },
    };
    const outcome = await runShardSegment(
      ctx,
      started.plan,
      { ...shard, segment, ...(start ? { start } : {}) },
      { finalAttempt: true },
    );
    uploadedBytes += outcome.uploadedBytes;
    if (!outcome.next) return uploadedBytes;
    start = outcome.next;
    segment += 1;
    counted = 0;
  }
}

/** Writes the catalog once every part is in. */
export async function finishBackup(
  deps: InProcessBackup,
  job: { backupId: string; cluster: ClusterRef; policy: BackupPolicy },
): Promise<Catalog> {
  const result = await emitCatalog(deps.store, job.cluster, job.backupId, job.policy, {
    ...(deps.encryption ? { encryption: deps.encryption } : {}),
    ...(deps.sealer ? { sealer: deps.sealer } : {}),
    ...(deps.clock ? { completedAt: deps.clock().toISOString() } : {}),
  });
  if (result.status === 'waiting') {
    throw new PermanentError(
      `Backup ${job.backupId} could not finish: missing ${result.missing.join(', ')}`,
    );
  }
  return result.catalog;
}
