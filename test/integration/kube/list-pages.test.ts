import { strict as assert } from 'node:assert';
import { listPages } from '../../../shared/kube/list-pages.js';
import { unique } from '../../../local/settings.js';
import { create, kubeHttp, R } from '../../../local/kube-requests.js';

const CONFIGMAPS = { ...R.configmaps, kind: 'ConfigMap' };

describe('paginated LIST on the real API server', function () {
  this.timeout(120_000);

  it('carries on from an expired continue token (410) without losing or repeating objects', async () => {
    const http = kubeHttp('source');
    const ns = unique('pages');
    await create(http, R.namespaces, { metadata: { name: ns } });
    for (let i = 0; i < 30; i++) {
      await create(http, R.configmaps, {
        metadata: { name: `cm-${String(i).padStart(2, '0')}`, namespace: ns },
        data: { i: String(i) },
      });
    }
    const selector = `pages=${ns}`;
    for (let i = 0; i < 30; i++) {
      const name = `cm-${String(i).padStart(2, '0')}`;
      await http.request('PATCH', `/api/v1/namespaces/${ns}/configmaps/${name}`, {
        body: { metadata: { labels: { pages: ns } } },
        contentType: 'application/merge-patch+json',
      });
    }
    // The first page, as a segment that ran out of time would leave it.
    const first = listPages(http, CONFIGMAPS, { limit: 10, labelSelector: selector });
    const page = await first.next();
    await first.return(undefined);
    assert.ok(!page.done);
    const seen = page.value.items.map((o) => o.metadata.name);
    const position = page.value.position;
    assert.equal(seen.length, 10);
    assert.ok(position.continueToken);
    // Time and writes pass; the API server compacts (every 5 s here) and the token expires.
    for (let i = 0; i < 14; i++) {
      await create(http, R.configmaps, { metadata: { name: `churn-${i}`, namespace: ns } });
      await new Promise((r) => setTimeout(r, 1000));
    }
    let restarts = 0;
    for await (const next of listPages(http, CONFIGMAPS, {
      limit: 10,
      labelSelector: selector,
      start: position,
    })) {
      seen.push(...next.items.map((o) => o.metadata.name));
      restarts = next.restarts;
    }
    assert.equal(restarts, 1, 'the expired token was answered with 410 and the LIST restarted');
    assert.deepEqual(
      seen,
      Array.from({ length: 30 }, (_, i) => `cm-${String(i).padStart(2, '0')}`),
    );
  });
});
