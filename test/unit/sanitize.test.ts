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
        // Annotations stay as they were: kubectl's next apply merges against its last one.
        metadata: {
          name: 'web',
          namespace: 'shop',
          annotations: {
            'kubectl.kubernetes.io/last-applied-configuration': lastApplied,
            'example.com/team': 'shop',
          },
        },
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

  it('drops every nodePort when none was asked for', () => {
    const out = stored(
      service({ 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{}}' }),
    ) as { metadata: object; spec: { ports: object[] } };
    assert.deepEqual(out.metadata, {
      name: 'web',
      namespace: 'shop',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{}}' },
    });
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

  it("keeps a custom resource's status when asked, and every annotation", () => {
    const cr: KubeObject = {
      apiVersion: 'example.lifeboat.dev/v1',
      kind: 'Widget',
      metadata: {
        name: 'w',
        namespace: 'shop',
        uid: 'u',
        generation: 3,
        deletionTimestamp: '2026-11-26T00:00:00Z',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      spec: { size: 1 },
      status: { phase: 'Ready' },
    };
    assert.deepEqual(stored(structuredClone(cr)), {
      apiVersion: 'example.lifeboat.dev/v1',
      kind: 'Widget',
      metadata: {
        name: 'w',
        namespace: 'shop',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      spec: { size: 1 },
    });
    assert.deepEqual(sanitize(cr, { keepStatus: true })['status'], { phase: 'Ready' });
  });

  it("drops a Job's generated selector and controller-uid labels, not a manual one", () => {
    const job = (manualSelector?: boolean): KubeObject => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: 'shop' },
      spec: {
        ...(manualSelector !== undefined ? { manualSelector } : {}),
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'old' } },
        template: {
          metadata: {
            labels: {
              'controller-uid': 'old',
              'batch.kubernetes.io/controller-uid': 'old',
              'job-name': 'once',
            },
          },
          spec: { containers: [] },
        },
      },
    });
    assert.deepEqual((stored(job()) as { spec: object }).spec, {
      template: { metadata: { labels: { 'job-name': 'once' } }, spec: { containers: [] } },
    });
    const manual = stored(job(true)) as { spec: { selector?: object } };
    assert.ok(manual.spec.selector, 'a manual selector is the user’s and stays');
    const lookalike = { ...job(), apiVersion: 'example.lifeboat.dev/v1' };
    assert.ok((stored(lookalike) as { spec: { selector?: object } }).spec.selector);
  });

  it("drops a service-account token Secret's token and account uid, so the target mints one", () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: {
        name: 'builder-token',
        namespace: 'shop',
        annotations: {
          'kubernetes.io/service-account.name': 'builder',
          'kubernetes.io/service-account.uid': 'old',
        },
      },
      data: { token: 'dG9r', 'ca.crt': 'Y2E=', namespace: 'c2hvcA==', extra: 'eA==' },
    };
    assert.deepEqual(stored(secret), {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: {
        name: 'builder-token',
        namespace: 'shop',
        annotations: { 'kubernetes.io/service-account.name': 'builder' },
      },
      data: { extra: 'eA==' },
    });
  });

  it("drops a claim's binding bookkeeping and the source's node, a Deployment's revision", () => {
    const pvc: KubeObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'data',
        annotations: {
          'pv.kubernetes.io/bind-completed': 'yes',
          'volume.kubernetes.io/selected-node': 'node-1',
          'example.com/keep': 'me',
        },
      },
    };
    assert.deepEqual((stored(pvc) as KubeObject).metadata.annotations, {
      'example.com/keep': 'me',
    });
    const deployment: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { 'deployment.kubernetes.io/revision': '4' } },
    };
    assert.equal((stored(deployment) as KubeObject).metadata.annotations, undefined);
  });
});
