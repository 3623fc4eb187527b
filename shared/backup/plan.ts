import type { BackupFilters, BackupPolicy, ClusterRef } from '../messages/common.js';
import { discoverResources, qualifiedName } from '../kube/discovery.js';
import { resourceInBackup } from '../kube/filters.js';
import type { KubeHttp } from '../kube/kube-http.js';
import { planListScope } from './list-scope.js';
import type { BackupPlan } from './parts.js';

export const DEFAULT_FILTERS: BackupFilters = {
  includeNamespaces: ['*'],
  excludeNamespaces: [],
  includeResources: ['*'],
  excludeResources: [],
  includeClusterResources: 'auto',
};

/**
 * Discovers what the cluster serves and plans one shard per resource in
 * the backup. Volumes are planned by the disk step, which reads the PVs.
 */
export async function planBackup(
  http: KubeHttp,
  job: {
    backupId: string;
    cluster: ClusterRef;
    policy: BackupPolicy;
    filters: BackupFilters;
    volumes: string[];
    previousBackupId?: string | undefined;
    /** When the backup starts; the current time unless a test runs a clock of its own. */
    startedAt?: string;
  },
): Promise<BackupPlan> {
  const [version, discovery, scope] = await Promise.all([
    http.request<{ gitVersion: string }>('GET', '/version'),
    discoverResources(http),
    planListScope(http, job.filters),
  ]);
  const shards = discovery.resources
    .filter((r) => resourceInBackup(r, job.filters))
    .map((resource) => ({ shardId: qualifiedName(resource).toLowerCase(), resource }))
    .sort((a, b) => a.shardId.localeCompare(b.shardId));
  return {
    backupId: job.backupId,
    cluster: job.cluster,
    policy: job.policy,
    kubernetesVersion: version.gitVersion,
    ...(job.previousBackupId ? { previousBackupId: job.previousBackupId } : {}),
    startedAt: job.startedAt ?? new Date().toISOString(),
    shards,
    volumes: job.volumes,
    warnings: discovery.warnings,
    ...scope,
  };
}
