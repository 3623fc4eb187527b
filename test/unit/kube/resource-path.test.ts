import { strict as assert } from 'node:assert';
import { PermanentError } from '../../../shared/errors.js';
import { isSecret } from '../../../shared/backup/export-resource.js';
import { resourcePath } from '../../../shared/kube/kube-http.js';

const SERVER = 'https://127.0.0.1:6443';
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps', namespaced: true };
const SECRET_REF = {
  group: '',
  version: 'v1',
  resource: 'secrets',
  kind: 'Secret',
  namespaced: true,
};

/** The path a request really goes to, as the HTTP client resolves it. */
const sentTo = (path: string): string => new URL(SERVER + path).pathname;

describe('Kubernetes request paths cannot be steered by names (attacks)', () => {
  it('encodes a group with "/" and ".." instead of letting it climb to the core API', () => {
    const path = resourcePath({
      group: 'x/../../api',
      version: 'v1',
      resource: 'secrets',
      namespaced: true,
    });
    assert.equal(sentTo(path), '/apis/x%2F..%2F..%2Fapi/v1/secrets');
    assert.ok(!sentTo(path).startsWith('/api/'), sentTo(path));
  });

  it('encodes names and namespaces with "/" so they stay one segment', () => {
    assert.equal(
      sentTo(resourcePath(CONFIGMAPS, 'a/../../kube-system', 'b/../c')),
      '/api/v1/namespaces/a%2F..%2F..%2Fkube-system/configmaps/b%2F..%2Fc',
    );
    assert.equal(
      sentTo(resourcePath({ ...CONFIGMAPS, resource: 'secrets/../configmaps' })),
      '/api/v1/secrets%2F..%2Fconfigmaps',
    );
  });

  it('refuses "." and ".." segments, which a URL would resolve (even percent-encoded)', () => {
    for (const bad of ['..', '.']) {
      assert.throws(() => resourcePath(CONFIGMAPS, bad, 'x'), PermanentError);
      assert.throws(() => resourcePath(CONFIGMAPS, 'ns', bad), PermanentError);
      assert.throws(() => resourcePath({ ...CONFIGMAPS, resource: bad }), PermanentError);
      assert.throws(() => resourcePath({ ...CONFIGMAPS, group: bad }), PermanentError);
      assert.throws(() => resourcePath({ ...CONFIGMAPS, version: bad }), PermanentError);
    }
    assert.throws(() => resourcePath({ ...CONFIGMAPS, version: '' }), PermanentError);
  });

  it('leaves ordinary paths as they were', () => {
    assert.equal(resourcePath(CONFIGMAPS, 'ns', 'cm'), '/api/v1/namespaces/ns/configmaps/cm');
    assert.equal(
      resourcePath({ group: 'apps', version: 'v1', resource: 'deployments', namespaced: true }),
      '/apis/apps/v1/deployments',
    );
  });
});

describe('which objects are sealed', () => {
  const obj = (kind?: string): never =>
    ({ metadata: { name: 'x', namespace: 'ns' }, ...(kind ? { kind } : {}) }) as never;

  it('seals whatever the core secrets resource lists, whatever kind the shard claims', () => {
    assert.equal(isSecret({ ...SECRET_REF, kind: 'ConfigMap' }, obj('ConfigMap')), true);
    assert.equal(isSecret({ ...SECRET_REF, kind: 'ConfigMap' }, obj()), true);
  });

  it('seals an object whose own kind is Secret, whatever resource listed it', () => {
    const widgets = {
      group: 'example.dev',
      version: 'v1',
      resource: 'widgets',
      kind: 'Widget',
      namespaced: true,
    };
    assert.equal(isSecret(widgets, obj('Secret')), true);
    assert.equal(isSecret(widgets, obj('Widget')), false);
    assert.equal(
      isSecret({ ...SECRET_REF, resource: 'configmaps', kind: 'ConfigMap' }, obj('ConfigMap')),
      false,
    );
  });
});
