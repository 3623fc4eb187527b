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
 * Every served resource that can be listed, at its group's preferred
 * version, CRDs included. Subresources are left out.
 */
export async function discoverResources(http: KubeHttp): Promise<Discovery> {
  const warnings: string[] = [];
  const groupVersions: { group: string; version: string }[] = [{ group: '', version: 'v1' }];
  const groups = await http.request<{ groups: APIGroup[] }>('GET', '/apis');
  for (const g of groups.groups) {
    const version = g.preferredVersion?.version ?? g.versions[0]?.version;
    if (version) groupVersions.push({ group: g.name, version });
  }
  const lists = await Promise.all(
    groupVersions.map(async ({ group, version }) => {
      const path =
        group === ''
          ? `/api/${pathSegment(version)}`
          : `/apis/${pathSegment(group)}/${pathSegment(version)}`;
      try {
        const list = await http.request<{ resources: APIResource[] }>('GET', path);
        return list.resources
          .filter((r) => !r.name.includes('/') && r.verbs.includes('list'))
          .map((r) => ({
            group,
            version,
            resource: r.name,
            kind: r.kind,
            namespaced: r.namespaced,
          }));
      } catch (error) {
        warnings.push(
          `API group ${group || 'core'}/${version} could not be discovered: ${errorMessage(error)}`,
        );
        return [];
      }
    }),
  );
  return { resources: lists.flat(), warnings };
}

/** `resource.group` as in Velero's filters (`deployments.apps`, `configmaps`). */
export function qualifiedName(ref: { group: string; resource: string }): string {
  return ref.group === '' ? ref.resource : `${ref.resource}.${ref.group}`;
}
