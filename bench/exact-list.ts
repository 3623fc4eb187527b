import type { KubeHttp } from '../shared/kube/kube-http.js';
import type { ResourceRef } from '../shared/messages/backup.js';
import { countByPagedList, type ListPage } from './paged-list.js';

/** The cluster's current etcd revision, as a LIST of namespaces reports it (as the plan reads it). */
export async function currentRevision(http: KubeHttp): Promise<string> {
  const page = await http.request<ListPage<unknown>>('GET', '/api/v1/namespaces', {
    query: { limit: 1 },
  });
  const revision = page.metadata.resourceVersion;
  if (!revision) throw new Error('the LIST of namespaces carried no metadata.resourceVersion');
  return revision;
}

/**
 * The bare paginated LIST of the backup's resources, as `bareList`, but at
 * exactly `revision` (resourceVersionMatch=Exact on the first page, then
 * continue tokens), as a point-in-time backup lists. Without `revision`, a
 * plain LIST, so that the two differ in nothing else.
 */
export async function bareListAt(
  http: KubeHttp,
  resources: readonly ResourceRef[],
  revision?: string,
): Promise<number> {
  return countByPagedList(http, resources, {
    query: (token) =>
      revision !== undefined && token === undefined
        ? { resourceVersion: revision, resourceVersionMatch: 'Exact' }
        : {},
    onPage: (r, page) => {
      if (revision !== undefined && page.metadata.resourceVersion !== revision) {
        throw new Error(
          `${r.resource}: asked for revision ${revision}, got ${page.metadata.resourceVersion}`,
        );
      }
    },
  });
}
