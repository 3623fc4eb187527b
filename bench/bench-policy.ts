import type { ResourceRef } from '../shared/messages/backup.js';
import { DEFAULT_FILTERS } from '../shared/backup/plan.js';
import { BackupPolicy } from '../shared/messages/common.js';
import { discoverResources } from '../shared/kube/discovery.js';
import { resourceInBackup } from '../shared/kube/filters.js';
import type { KubeHttp } from '../shared/kube/kube-http.js';
import { validate } from '../shared/validate.js';

/** The policy of a bench backup: the bench-N-* namespaces, or one namespace named without a wildcard. */
export function benchPolicy(n: number, namespace?: string): BackupPolicy {
  return validate(
    BackupPolicy,
    {
      name: 'bench',
      projects: ['local'],
      snapshotVolumes: false,
      filters: { includeNamespaces: [namespace ?? `bench-${n}-*`] },
    },
    'bench policy',
  );
}

/**
 * Every resource a bench backup lists: the floor lists the same ones, so
 * that what the controllers add (ReplicaSets and Pods of the seeded
 * Deployments, Endpoints and EndpointSlices of its Services, each
 * namespace's ServiceAccount and root CA) is listed by both sides.
 */
export async function floorResources(http: KubeHttp, n: number): Promise<ResourceRef[]> {
  const { resources, warnings } = await discoverResources(http);
  if (warnings.length)
    throw new Error(`the floor cannot see every resource: ${warnings.join('; ')}`);
  const filters = benchPolicy(n).filters ?? DEFAULT_FILTERS;
  return resources.filter((r) => resourceInBackup(r, filters));
}
