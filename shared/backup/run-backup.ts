import type { Catalog } from '../catalog/catalog-schema.js';
import { mapLimit } from '../concurrency.js';
import type { Sealer } from '../crypto/sealer.js';
import { PermanentError } from '../errors.js';
import type { BackupPolicy, ClusterRef } from '../messages/common.js';
import type { KubeHttp } from '../kube/kube-http.js';
import type { ObjectStore } from '../store/object-store.js';
import { emitCatalog } from './emit-catalog.js';
import { knownPacks, previousBackupId } from './known-packs.js';
import { writePlan } from './parts.js';
import { DEFAULT_FILTERS, planBackup } from './plan.js';
import { runShardSegment } from './run-shard.js';
import type { VolumeBackup } from './volume-backup.js';

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
}

/**
 * A whole backup in one process: the same plan, shards, parts and catalog
 * as the pipeline, without the messages. Used by the CLI's local mode and
 * the benchmarks.
 */
export async function runBackup(
  deps: InProcessBackup,
  job: { backupId: string; cluster: ClusterRef; policy: BackupPolicy },
): Promise<{ catalog: Catalog; uploadedBytes: number }> {
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
    }),
  );
  const known = await knownPacks(deps.store, job.cluster, plan.previousBackupId);
  const progress: BackupProgress = {
    phase: 'export',
    objects: 0,
    shardsDone: 0,
    shards: plan.shards.length,
  };
  deps.onProgress?.({ ...progress, phase: 'plan' });
  let uploadedBytes = 0;
  await mapLimit(plan.shards, deps.concurrency ?? 4, async (shard) => {
    let segment = 0;
    let start;
    let counted = 0;
    for (;;) {
      const ctx = {
        http: deps.http,
        store: deps.store,
        filters,
        knownPacks: known,
        ...(deps.sealer ? { sealer: deps.sealer } : {}),
        onProgress: (n: number) => {
          progress.objects += n - counted;
          counted = n;
          deps.onProgress?.({ ...progress });
        },
      };
      const outcome = await runShardSegment(
        ctx,
        plan,
        { ...shard, segment, ...(start ? { start } : {}) },
        { finalAttempt: true },
      );
      uploadedBytes += outcome.uploadedBytes;
      if (!outcome.next) break;
      start = outcome.next;
      segment += 1;
      counted = 0;
    }
    progress.shardsDone += 1;
    deps.onProgress?.({ ...progress });
  });
  if (deps.volumes && volumeNames.length > 0) {
    deps.onProgress?.({ ...progress, phase: 'volumes' });
    await deps.volumes.snapshotAll(plan, job.policy);
  }
  deps.onProgress?.({ ...progress, phase: 'catalog' });
  const result = await emitCatalog(deps.store, job.cluster, job.backupId, job.policy, {
    ...(deps.encryption ? { encryption: deps.encryption } : {}),
  });
  if (result.status === 'waiting') {
    throw new PermanentError(
      `Backup ${job.backupId} could not finish: missing ${result.missing.join(', ')}`,
    );
  }
  return { catalog: result.catalog, uploadedBytes };
}
