import { strict as assert } from 'node:assert';
import { sanitize, sanitizeInPlace, type KubeObject } from '../../shared/kube/sanitize.js';

/** What the export stores: the sanitised object as JSON. */
const stored = (obj: KubeObject): unknown => JSON.parse(JSON.stringify(sanitizeInPlace(obj)));

function service(annotations: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '42',
      creationTimestamp: '2026-11-26T00:00:00Z',
      managedFields: [{ manager: 'kubectl' }],
      annotations,
    },
    spec: {
      type: 'NodePort',
      clusterIP: '10.0.0.7',
      clusterIPs: ['10.0.0.7'],
      ports: [
        { name: 'http', port: 80, nodePort: 30080 },
        { name: 'admin', port: 81, nodePort: 31081 },
      ],
    },
    status: { loadBalancer: {} },
  };
}

describe('sanitising objects for restore', () => {
  it('drops status, identity and allocated fields, keeping what the user wrote', () => {
    const lastApplied = JSON.stringify({
      spec: { ports: [{ name: 'http', port: 80, nodePort: 30080 }] },
    });
    assert.deepEqual(
      stored(
        service({
          'kubectl.kubernetes.io/last-applied-configuration': lastApplied,
          'example.com/team': 'shop',
        }),
      ),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'shop', annotations: { 'example.com/team': 'shop' } },
        // The nodePort the user applied stays; the allocated one goes.
        spec: {
          type: 'NodePort',
          ports: [
            { name: 'http', port: 80, nodePort: 30080 },
            { name: 'admin', port: 81 },
          ],
        },
      },
    );
  });

  it('drops every nodePort when none was asked for, and annotations left empty', () => {
    const out = stored(
      service({ 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{}}' }),
    ) as { metadata: object; spec: { ports: object[] } };
    assert.deepEqual(out.metadata, { name: 'web', namespace: 'shop' });
    assert.deepEqual(out.spec.ports, [
      { name: 'http', port: 80 },
      { name: 'admin', port: 81 },
    ]);
  });

  it('keeps a headless Service headless and leaves no undefined fields in a copy', () => {
    const headless = service({});
    (headless['spec'] as Record<string, unknown>)['clusterIP'] = 'None';
    const copy = sanitize(headless);
    assert.equal((copy['spec'] as { clusterIP: string }).clusterIP, 'None');
    assert.equal(headless.metadata['uid'], 'u-1', 'sanitize() leaves the original alone');
    for (const [key, value] of Object.entries(copy.metadata)) {
      assert.notEqual(value, undefined, `metadata.${key} is present but undefined`);
    }
    assert.equal('status' in copy, false);
  });

  it("drops a PV claim's uid and resourceVersion but keeps the claim", () => {
    const pv: KubeObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'pv-1' },
      spec: { claimRef: { namespace: 'shop', name: 'data', uid: 'c-1', resourceVersion: '9' } },
    };
    assert.deepEqual((stored(pv) as { spec: object }).spec, {
      claimRef: { namespace: 'shop', name: 'data' },
    });
  });
});
