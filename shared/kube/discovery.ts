import type { ResourceRef } from '../messages/backup.js';
import { errorMessage } from '../errors.js';
import { pathSegment, type KubeHttp } from './kube-http.js';

interface APIResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

interface APIGroup {
  name: string;
  preferredVersion?: { groupVersion: string; version: string };
  versions: { version: string }[];
}

export interface Discovery {
  resources: ResourceRef[];
  /** Groups whose discovery failed (an aggregated API that is down): never a silent gap. */
  warnings: string[];
}

/**
 * Every served resource that can be listed, CRDs included, each at its
 * group's preferred version or, when that version does not serve it, at
 * the first other version that does (a group's kinds need not all be at
 * every version: a CRD at v1 and v2 beside one only at v1). Subresources
 * are left out.
 */
export async function discoverResources(http: KubeHttp): Promise<Discovery> {
  const warnings: string[] = [];
  const groups: { group: string; versions: string[] }[] = [{ group: '', versions: ['v1'] }];
  const listed = await http.request<{ groups: APIGroup[] }>('GET', '/apis');
  for (const g of listed.groups) {
    const preferred = g.preferredVersion?.version ?? g.versions[0]?.version;
    if (!preferred) continue;
    const others = g.versions.map((v) => v.version).filter((v) => v !== preferred);
    groups.push({ group: g.name, versions: [preferred, ...others] });
  }
  const lists = await Promise.all(
    groups.map(async ({ group, versions }) => {
      const perVersion = await Promise.all(
        versions.map((version) => resourcesAt(http, group, version, warnings)),
      );
      const first = new Map<string, ResourceRef>();
      for (const r of perVersion.flat()) if (!first.has(r.resource)) first.set(r.resource, r);
      return [...first.values()];
    }),
  );
  return { resources: lists.flat(), warnings };
}

async function resourcesAt(
  http: KubeHttp,
  group: string,
  version: string,
  warnings: string[],
): Promise<ResourceRef[]> {
  const path =
    group === ''
      ? `/api/${pathSegment(version)}`
      : `/apis/${pathSegment(group)}/${pathSegment(version)}`;
  try {
    const list = await http.request<{ resources: APIResource[] }>('GET', path);
    return list.resources
      .filter((r) => !r.name.includes('/') && r.verbs.includes('list'))
      .map((r) => ({ group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced }));
  } catch (error) {
    warnings.push(
      `API group ${group || 'core'}/${version} could not be discovered: ${errorMessage(error)}`,
    );
    return [];
  }
}

/** `resource.group` as in Velero's filters (`deployments.apps`, `configmaps`). */
export function qualifiedName(ref: { group: string; resource: string }): string {
  return ref.group === '' ? ref.resource : `${ref.resource}.${ref.group}`;
}
