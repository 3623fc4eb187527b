import { strict as assert } from 'node:assert';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { kubeConfigFor, required, unique } from '../support/environment.js';

for (const which of ['source', 'target'] as const) {
  describe(`kube-apiserver "${which}"`, () => {
    it('reports the pinned Kubernetes version', async () => {
      const info = await kubeConfigFor(which).makeApiClient(VersionApi).getCode();
      assert.match(info.gitVersion, /^v1\.\d+\.\d+$/);
      assert.notEqual(info.gitVersion, 'v0.0.0-master+$Format:%H$');
    });

    it('creates and lists objects through @kubernetes/client-node', async () => {
      const core = kubeConfigFor(which).makeApiClient(CoreV1Api);
      const namespace = unique('ns');
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: 'settings' }, data: { color: 'blue' } },
      });
      const list = await core.listNamespacedConfigMap({ namespace });
      assert.deepEqual(
        list.items.map((c) => c.data?.['color']),
        ['blue'],
      );
    });
  });
}

describe('the two API servers are separate clusters with RBAC on', () => {
  it('keeps objects of one out of the other', async () => {
    const namespace = unique('only-source');
    await kubeConfigFor('source')
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } });
    await assert.rejects(
      kubeConfigFor('target').makeApiClient(CoreV1Api).readNamespace({ name: namespace }),
      (e: { code?: number }) => e.code === 404,
    );
  });

  it('forbids a user that RBAC grants nothing', async () => {
    const kc = kubeConfigFor('source');
    const user = kc.getCurrentUser();
    assert.ok(user);
    kc.users = kc.users.map((u) =>
      u.name === user.name ? { ...u, token: required('LIFEBOAT_SOURCE_UNPRIVILEGED_TOKEN') } : u,
    );
    await assert.rejects(
      kc.makeApiClient(CoreV1Api).listNamespace(),
      (e: { code?: number }) => e.code === 403,
    );
  });
});
