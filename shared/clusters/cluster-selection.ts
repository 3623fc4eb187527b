import { globMatch, matchesAny } from '../glob.js';
import { ClusterRef, type BackupPolicy } from '../messages/common.js';
import type { ClusterListing, DiscoveredCluster } from './cluster-inventory.js';

/** The location that stands for every location, as in the GKE API's `locations/-`. */
export const ALL_LOCATIONS = '-';

/** The status a cluster must have to be backed up, unless the inventory is told otherwise. */
export const DEFAULT_READY_STATUSES: readonly string[] = ['RUNNING'];

const NAME_PATTERN = new RegExp(ClusterRef.properties.name.pattern ?? '^$');

/** Whether `name` can be a ClusterRef name (a DNS-1123 label, as GKE cluster names are). */
export function isValidClusterName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

const isGlob = (pattern: string): boolean => /[*?]/.test(pattern);

/** '-' selects every location; otherwise a location must match one of the patterns (globs allowed). */
export function locationSelected(patterns: readonly string[], location: string): boolean {
  return patterns.includes(ALL_LOCATIONS) || matchesAny(patterns, location);
}

/** Every required label present, its value matching (a glob: '*' asks only that the key exists). */
export function labelsSelected(
  required: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(required).every(([key, pattern]) => {
    const value = labels[key];
    return value !== undefined && globMatch(pattern, value);
  });
}

/** Whether the policy selects a cluster: project, location, name glob and labels all match. */
export function clusterSelected(
  policy: BackupPolicy,
  cluster: Pick<DiscoveredCluster, 'ref' | 'labels'>,
): boolean {
  const { project, location, name } = cluster.ref;
  return (
    policy.projects.includes(project) &&
    locationSelected(policy.locations, location) &&
    matchesAny(policy.clusterNames, name) &&
    labelsSelected(policy.clusterLabels, cluster.labels)
  );
}

/**
 * The (project, location) pairs to list so that every cluster the policy
 * can select is seen with as few calls as possible: one `-` listing for a
 * project whose locations include '-' or a glob (filtered afterwards), else
 * one listing per named location.
 */
export function listingScopes(policy: BackupPolicy): { project: string; location: string }[] {
  const locations = [...new Set(policy.locations)];
  const perProject =
    locations.length === 0 || locations.some((l) => l === ALL_LOCATIONS || isGlob(l))
      ? [ALL_LOCATIONS]
      : locations;
  return [...new Set(policy.projects)].flatMap((project) =>
    perProject.map((location) => ({ project, location })),
  );
}

/** Why a selected cluster is not backed up now. */
export function skipReason(cluster: DiscoveredCluster): string {
  const detail = cluster.statusMessage ? `: ${cluster.statusMessage}` : '';
  return `cluster status is ${cluster.status}, not ready for backup${detail}`;
}

export const refKey = (ref: ClusterRef): string => `${ref.project}/${ref.location}/${ref.name}`;

/**
 * Applies a policy to what an inventory found: keeps the selected clusters
 * (each once, in project/location/name order), and splits off those whose
 * status is not one of `readyStatuses` as skipped, with the reason.
 */
export function selectClusters(
  policy: BackupPolicy,
  found: Iterable<DiscoveredCluster>,
  readyStatuses: readonly string[] = DEFAULT_READY_STATUSES,
): Omit<ClusterListing, 'unlisted'> {
  const selected = new Map<string, DiscoveredCluster>();
  for (const cluster of found) {
    if (clusterSelected(policy, cluster)) selected.set(refKey(cluster.ref), cluster);
  }
  const ordered = [...selected.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, c]) => c);
  const ready = new Set(readyStatuses);
  return {
    clusters: ordered.filter((c) => ready.has(c.status)),
    skipped: ordered
      .filter((c) => !ready.has(c.status))
      .map((c) => ({ cluster: c.ref, reason: skipReason(c) })),
  };
}
