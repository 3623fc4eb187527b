import { strict as assert } from 'node:assert';
import { compareRestored, differences } from '../../../shared/drill/drill-compare.js';
import { drillVerdict, type DrillFindings } from '../../../shared/drill/drill-verdict.js';
import { drillNamespace } from '../../../shared/drill/drill-names.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';

const clean: DrillFindings = {
  criteria: { objectsEqualCatalog: true, volumesBoundToRestoredDisks: true },
  restoreVolumes: true,
  stopped: [],
  restoreErrors: [],
  failedObjects: [],
  compared: 4,
  mismatches: [],
  volumes: [
    { pvName: 'pv-a', claim: 'drill-x-shop/data', disk: 'projects/p/zones/z/disks/d', bound: true },
  ],
  rtoSeconds: 12.5,
  timeoutSeconds: 3600,
  leftBehind: [],
};

describe('drill verdict', () => {
  it('passes a drill where everything came back, bound, in time, and nothing was left', () => {
    assert.deepEqual(drillVerdict(clean), { verdict: 'passed', reasons: [] });
  });

  it('fails, with a reason each, for every way a drill can go wrong', () => {
    const cases: [Partial<DrillFindings>, RegExp][] = [
      [{ stopped: ['pack abc is missing'] }, /pack abc is missing/],
      [{ restoreErrors: ['CRD not established'] }, /restore errors: CRD not established/],
      [
        { failedObjects: ['configmaps shop/a: denied'] },
        /objects not restored: configmaps shop\/a/,
      ],
      [{ compared: 0 }, /nothing was proven/],
      [
        { mismatches: [{ resource: 'configmaps', namespace: 'n', name: 'a', problem: 'missing' }] },
        /1 object\(s\) not as the catalog says: configmaps n\/a missing/,
      ],
      [
        { volumes: [{ pvName: 'pv-a', bound: false, detail: 'the claim is Pending, not Bound' }] },
        /1 volume\(s\) not bound .*pv-a: the claim is Pending/,
      ],
      [{ rtoSeconds: 4000 }, /verified after 4000s, more than the policy's 3600s/],
      [{ leftBehind: ['namespace drill-x-shop: still there'] }, /could not clean up: namespace/],
    ];
    for (const [change, reason] of cases) {
      const { verdict, reasons } = drillVerdict({ ...clean, ...change });
      assert.equal(verdict, 'failed', JSON.stringify(change));
      assert.match(reasons.join('\n'), reason);
    }
  });

  it("notes the drill cluster's own objects that differ without failing for them", () => {
    const inPlace = {
      resource: 'customresourcedefinitions.apiextensions.k8s.io',
      name: 'widgets.example.lifeboat.dev',
      problem: 'differs' as const,
      inPlace: true,
    };
    assert.equal(drillVerdict({ ...clean, mismatches: [inPlace] }).verdict, 'passed');
  });

  it('honours pass criteria a policy turns off, and skips volume checks without volume data', () => {
    const unbound = { volumes: [{ pvName: 'pv-a', bound: false }] };
    const differs = {
      mismatches: [{ resource: 'configmaps', name: 'a', problem: 'differs' as const }],
    };
    const off = { objectsEqualCatalog: false, volumesBoundToRestoredDisks: false };
    assert.equal(drillVerdict({ ...clean, ...unbound, criteria: off }).verdict, 'passed');
    assert.equal(drillVerdict({ ...clean, ...differs, criteria: off }).verdict, 'passed');
    assert.equal(drillVerdict({ ...clean, ...unbound, restoreVolumes: false }).verdict, 'passed');
    // A stop or a leftover always fails, whatever the criteria.
    assert.equal(drillVerdict({ ...clean, stopped: ['x'], criteria: off }).verdict, 'failed');
    assert.equal(drillVerdict({ ...clean, leftBehind: ['x'], criteria: off }).verdict, 'failed');
  });

  it('lists at most ten items per reason and says how many more', () => {
    const failedObjects = Array.from({ length: 13 }, (_, i) => `configmaps n/c${i}: denied`);
    const { reasons } = drillVerdict({ ...clean, failedObjects });
    assert.match(reasons[0]!, /c9: denied \(and 3 more\)$/);
    assert.doesNotMatch(reasons[0]!, /c10/);
  });
});

describe('drill comparison', () => {
  const object = (extra: Record<string, unknown> = {}): KubeObject =>
    ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'drill-x-shop', labels: { app: 'shop' } },
      data: { mode: 'production' },
      ...extra,
    }) as KubeObject;

  it('sees a restored object as equal despite what the cluster assigns and our label', () => {
    const live = object();
    live.metadata = {
      ...live.metadata,
      uid: 'u-1',
      resourceVersion: '17',
      creationTimestamp: '2026-11-30T06:00:00Z',
      labels: { app: 'shop', 'lifeboat.dev/restore': 'drill-x' },
    };
    assert.deepEqual(compareRestored(live, object(), ''), []);
  });

  it('names the paths where a restored object differs', () => {
    const live = object({ data: { mode: 'debug' } });
    assert.deepEqual(compareRestored(live, object(), ''), ['/data/mode']);
    assert.deepEqual(differences({ a: [1, 2] }, { a: [1, 3] }), ['/a/1']);
    assert.deepEqual(differences({ a: 1 }, { b: 1 }), ['/a', '/b']);
  });

  it("ignores a namespace's own-name label and a claim's volume name, which a drill changes", () => {
    const ns = (name: string): KubeObject =>
      ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'drill-x-shop', labels: { 'kubernetes.io/metadata.name': name } },
      }) as KubeObject;
    assert.deepEqual(compareRestored(ns('drill-x-shop'), ns('shop'), ''), []);
    const claim = (volumeName: string): KubeObject =>
      ({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data', namespace: 'drill-x-shop' },
        spec: { volumeName, accessModes: ['ReadWriteOnce'] },
      }) as KubeObject;
    assert.deepEqual(compareRestored(claim('lbr-new'), claim('pv-old'), ''), []);
  });

  it('refuses a drilled namespace name that is not a namespace name', () => {
    assert.equal(drillNamespace('w48', 'shop'), 'drill-w48-shop');
    assert.throws(() => drillNamespace('w48', 'n'.repeat(60)), /longer than 63 characters/);
  });
});
