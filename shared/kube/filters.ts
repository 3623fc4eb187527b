import type { BackupFilters } from '../messages/common.js';
import type { ResourceRef } from '../messages/backup.js';
import { qualifiedName } from './discovery.js';
import { globMatch, matchesAny } from '../glob.js';

/** Shell-style globs (`*`, `?`), matched without regular expressions (shared/glob.ts). */
export { globMatch, matchesAny };

/** Included and not excluded, exclusion winning. */
export function selected(
  value: string,
  include: readonly string[],
  exclude: readonly string[],
): boolean {
  return matchesAny(include, value) && !matchesAny(exclude, value);
}

/** Whether a backup takes every namespace: all included, none excluded. */
export function everyNamespaceSelected(filters: BackupFilters): boolean {
  return filters.includeNamespaces.includes('*') && filters.excludeNamespaces.length === 0;
}

/**
 * Whether a backup takes a persistent volume, given the namespace of its
 * claim: a PV goes with its claim; an unclaimed one only with every namespace.
 */
export function volumeSelected(
  claimNamespace: string | undefined,
  filters: BackupFilters,
): boolean {
  return claimNamespace === undefined
    ? everyNamespaceSelected(filters)
    : selected(claimNamespace, filters.includeNamespaces, filters.excludeNamespaces);
}

/** Resources a backup never takes: they belong to the running cluster, not its configuration. */
export const NEVER_BACKED_UP = [
  'nodes',
  'events',
  'events.events.k8s.io',
  'leases.coordination.k8s.io',
  'componentstatuses',
  'bindings',
  'tokenreviews.authentication.k8s.io',
  'selfsubjectreviews.authentication.k8s.io',
];

/** A resource matches `configmaps`, `deployments.apps`, or the kind's plural without group. */
export function resourceSelected(
  ref: ResourceRef,
  include: readonly string[],
  exclude: readonly string[],
): boolean {
  const names = [qualifiedName(ref), ref.resource];
  const inc = names.some((n) => matchesAny(include, n));
  const exc = names.some((n) => matchesAny(exclude, n));
  return inc && !exc;
}

/**
 * Whether a resource is part of the backup. Cluster-scoped resources follow
 * Velero's rule: `auto` takes them only when every namespace is backed up
 * (PVs and CRDs are always taken: the namespaced PVCs and custom resources need them).
 */
export function resourceInBackup(ref: ResourceRef, filters: BackupFilters): boolean {
  if (NEVER_BACKED_UP.includes(qualifiedName(ref))) return false;
  if (!resourceSelected(ref, filters.includeResources, filters.excludeResources)) return false;
  if (ref.namespaced) return true;
  if (filters.includeClusterResources === 'on') return true;
  if (filters.includeClusterResources === 'off')
    return ref.resource === 'persistentvolumes' && ref.group === '';
  const allNamespaces = everyNamespaceSelected(filters);
  // CRDs come along so that custom resources in the chosen namespaces can be restored.
  const crds = ref.resource === 'customresourcedefinitions' && ref.group === 'apiextensions.k8s.io';
  return (
    allNamespaces ||
    crds ||
    (ref.resource === 'persistentvolumes' && ref.group === '') ||
    ref.resource === 'namespaces'
  );
}

export const EXCLUDE_LABEL = 'lifeboat.dev/exclude-from-backup';
