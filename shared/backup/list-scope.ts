import type { BackupFilters } from '../messages/common.js';
import { selected } from '../kube/filters.js';
import { KubeApiError, type KubeHttp } from '../kube/kube-http.js';

/** Past this many selected namespaces, one LIST per namespace costs more requests than it saves. */
export const MAX_NAMESPACE_LISTS = 500;

export interface ListScope {
  /** The etcd revision every shard lists at: the revision of the planning LIST of namespaces. */
  revision?: string;
  /** Namespaced resources are listed in these namespaces only; absent: cluster-wide. */
  namespaces?: string[];
}

/** Whether a namespace pattern names one namespace exactly. */
const isName = (pattern: string): boolean => !/[*?[]/.test(pattern);

/**
 * Reads the cluster's revision and decides how namespaced resources are
 * listed, from one paginated LIST of namespaces (whose pages share one
 * revision). Namespaces named without wildcards are always listed one by
 * one. Otherwise the cost decides, counting namespaces as a stand-in for
 * objects (the planner does not know how objects spread): a cluster-wide
 * LIST reads every namespace's objects in few requests; per-namespace LISTs
 * read only the selected ones, one request each. Per namespace wins when at
 * most half the namespaces are selected and there are at most
 * MAX_NAMESPACE_LISTS of them; otherwise cluster-wide, filtered in process.
 */
export async function planListScope(http: KubeHttp, filters: BackupFilters): Promise<ListScope> {
  const all: string[] = [];
  let revision: string | undefined;
  let token: string | undefined;
  do {
    let page: NamespaceList;
    try {
      page = await http.request<NamespaceList>('GET', '/api/v1/namespaces', {
        query: { limit: 500, continue: token },
      });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 410 && token)) throw error;
      // The token expired between two pages: start again, at a newer revision.
      [all.length, revision, token] = [0, undefined, undefined];
      continue;
    }
    // Every page of a paginated LIST is read at its first page's revision.
    revision ??= page.metadata?.resourceVersion || undefined;
    for (const ns of page.items ?? []) if (ns.metadata?.name) all.push(ns.metadata.name);
    token = page.metadata?.continue || undefined;
  } while (token);
  const chosen = all
    .filter((n) => selected(n, filters.includeNamespaces, filters.excludeNamespaces))
    .sort();
  const byName = filters.includeNamespaces.length > 0 && filters.includeNamespaces.every(isName);
  const cheaper = chosen.length * 2 <= all.length && chosen.length <= MAX_NAMESPACE_LISTS;
  return {
    ...(revision !== undefined ? { revision } : {}),
    ...(byName || cheaper ? { namespaces: chosen } : {}),
  };
}

interface NamespaceList {
  items?: { metadata?: { name?: string } }[];
  metadata?: { continue?: string; resourceVersion?: string };
}
