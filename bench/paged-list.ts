import { resourcePath, type KubeHttp } from '../shared/kube/kube-http.js';
import type { ResourceRef } from '../shared/messages/backup.js';

export type ListPage<T> = {
  items: T[];
  metadata: { continue?: string; resourceVersion?: string };
};

export interface PagedListOptions<T> {
  /** Added to the query of each page, by its continue token (undefined on the first page). */
  query?: (token: string | undefined) => Record<string, string | undefined>;
  /** Sees every page of `resource` as it comes; may throw to stop the listing. */
  onPage?: (resource: ResourceRef, page: ListPage<T>) => void;
}

/**
 * The objects of `resources`, counted by bare paginated LISTs (500 a page)
 * through raw HTTP, every resource at once: the benchmarks' floor, with
 * nothing of the backup's own work.
 */
export async function countByPagedList<T>(
  http: KubeHttp,
  resources: readonly ResourceRef[],
  options: PagedListOptions<T> = {},
): Promise<number> {
  const counts = await Promise.all(
    resources.map(async (r) => {
      let total = 0;
      let token: string | undefined;
      do {
        const page = await http.request<ListPage<T>>('GET', resourcePath(r), {
          query: { limit: 500, continue: token, ...options.query?.(token) },
        });
        options.onPage?.(r, page);
        total += page.items.length;
        token = page.metadata.continue || undefined;
      } while (token);
      return total;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}
