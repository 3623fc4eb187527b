import assert from 'node:assert/strict';
import type { KubeHttp, KubeRequest } from '../../../shared/kube/kube-http.js';
import type { ResourceRef } from '../../../shared/messages/backup.js';
import { countByPagedList, type ListPage } from '../../../bench/paged-list.js';

const configmaps: ResourceRef = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};
const secrets: ResourceRef = { ...configmaps, resource: 'secrets', kind: 'Secret' };

/** An API server holding `sizes[resource]` objects of each resource, served 500 a page. */
function pagingServer(sizes: Record<string, number>): {
  http: KubeHttp;
  queries: { path: string; query: KubeRequest['query'] }[];
} {
  const queries: { path: string; query: KubeRequest['query'] }[] = [];
  const request = (_method: string, path: string, req: KubeRequest): Promise<ListPage<number>> => {
    queries.push({ path, query: req.query });
    const resource = path.split('/').at(-1) ?? '';
    const from = Number(req.query?.['continue'] ?? 0);
    const to = Math.min(from + Number(req.query?.['limit']), sizes[resource] ?? 0);
    const items = Array.from({ length: to - from }, (_, i) => from + i);
    const rest = to < (sizes[resource] ?? 0) ? { continue: String(to) } : {};
    return Promise.resolve({ items, metadata: { resourceVersion: '7', ...rest } });
  };
  return { http: { request } as unknown as KubeHttp, queries };
}

describe('the benchmarks’ bare paginated LIST', function () {
  it('counts every object of every resource, 500 a page, following continue tokens', async function () {
    const { http, queries } = pagingServer({ configmaps: 1200, secrets: 3 });
    const pages: string[] = [];
    const total = await countByPagedList<number>(http, [configmaps, secrets], {
      onPage: (r, page) => pages.push(`${r.resource}:${page.items.length}`),
    });
    assert.equal(total, 1203);
    assert.deepEqual(pages.sort(), [
      'configmaps:200',
      'configmaps:500',
      'configmaps:500',
      'secrets:3',
    ]);
    assert.deepEqual(
      queries.filter((q) => q.path.endsWith('/configmaps')).map((q) => q.query),
      [
        { limit: 500, continue: undefined },
        { limit: 500, continue: '500' },
        { limit: 500, continue: '1000' },
      ],
    );
  });

  it('adds the query asked for by page, and stops when a page is refused', async function () {
    const { http, queries } = pagingServer({ configmaps: 600 });
    await countByPagedList(http, [configmaps], {
      query: (token) => (token === undefined ? { resourceVersion: '7' } : {}),
    });
    assert.deepEqual(
      queries.map((q) => q.query),
      [
        { limit: 500, continue: undefined, resourceVersion: '7' },
        { limit: 500, continue: '500' },
      ],
    );
    await assert.rejects(
      countByPagedList(http, [configmaps], {
        onPage: () => {
          throw new Error('wrong revision');
        },
      }),
      /wrong revision/,
    );
  });
});
