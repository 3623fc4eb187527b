import type { Catalog } from '../catalog/catalog-schema.js';
import { writeCatalog } from '../catalog/catalog-io.js';
import { Layout } from '../catalog/layout.js';
import type { Sealer } from '../crypto/sealer.js';
import type { BackupCompleted } from '../messages/index.js';
import { backupCompletedOf } from './backup-completed.js';
import type { BackupPolicy, ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';

/**
 * Records a backup that could not even be planned (its cluster unknown or
 * unreachable for good, a 403 from the API server, Secrets and no key) as
 * a Failed catalog holding the reason, so `backup list` and `backup
 * describe` show it, and returns the BackupCompleted that announces it. A
 * backup that already has a plan is running (or ran): it is left alone and
 * nothing is returned.
 */
export async function recordFailedBackup(
  store: ObjectStore,
  job: { backupId: string; cluster: ClusterRef; policy: BackupPolicy },
  reason: string,
  startedAt: string,
  sealer?: Sealer,
): Promise<BackupCompleted | undefined> {
  if (await store.exists(Layout.plan(job.cluster, job.backupId))) return undefined;
  const catalog: Catalog = await writeCatalog(
    store,
    {
      kind: 'Catalog',
      backupId: job.backupId,
      cluster: job.cluster,
      // Never learned: the cluster was not reached, or refused to say.
      kubernetesVersion: 'unknown',
      policy: job.policy,
      phase: 'Failed',
      startedAt,
      completedAt: new Date().toISOString(),
      counts: { objects: 0, packs: 0, packBytes: 0, volumes: 0, secrets: 0 },
      resources: [],
      packs: [],
      volumes: [],
      warnings: [],
      errors: [`not planned: ${reason}`],
    },
    sealer,
  );
  return backupCompletedOf(catalog);
}
