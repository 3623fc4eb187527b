import { Layout } from '../catalog/layout.js';
import { globMatch } from '../glob.js';
import type { ClusterRef } from '../messages/common.js';
import type { DrillPolicy } from '../messages/drill.js';
import type { ObjectStore } from '../store/object-store.js';

/** Whether a cluster is one a drill policy selects by project, location and name (labels are not in the store). */
export function policySelects(policy: DrillPolicy, cluster: ClusterRef): boolean {
  return (
    policy.projects.includes(cluster.project) &&
    policy.locations.some((l) => l === '-' || globMatch(l, cluster.location)) &&
    policy.clusterNames.some((n) => globMatch(n, cluster.name))
  );
}

/** Every cluster with backups in the store that the policy selects (by project, location and name). */
export async function clustersWithBackups(
  store: ObjectStore,
  policy: DrillPolicy,
): Promise<ClusterRef[]> {
  const found = new Map<string, ClusterRef>();
  for await (const info of store.list('backups/')) {
    const key = /^backups\/([^/]+)\//.exec(info.key)?.[1];
    const cluster = key ? Layout.parseClusterKey(key) : undefined;
    if (key && cluster && !found.has(key) && policySelects(policy, cluster))
      found.set(key, cluster);
  }
  return [...found.values()];
}
