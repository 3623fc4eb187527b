import { strict as assert } from 'node:assert';
import { resourcePath } from '../../../shared/kube/kube-http.js';
import { runBackup } from '../../../shared/backup/run-backup.js';
import type { Catalog } from '../../../shared/catalog/catalog-schema.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import { isBuiltinGroup } from '../../../shared/kube/builtin-groups.js';
import { KubeApiError, type KubeHttp } from '../../../shared/kube/kube-http.js';
import { sanitize, type KubeObject } from '../../../shared/kube/sanitize.js';
import { RESTORE_LABEL, waitEstablished } from '../../../shared/restore/apply-object.js';
import type { RestoreReport } from '../../../shared/restore/report.js';
import { runRestore } from '../../../shared/restore/run-restore.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import {
  gcsStore,
  policy,
  restoreOptions,
  sealerFor,
  SOURCE,
  TARGET,
} from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import {
  F,
  fidelityNames,
  newerCrankCrd,
  newerSprocketCrd,
  seedFidelityWorkload,
  type FidelityNames,
  type Seeded,
} from '../../support/fidelity-workload.js';
import { create, get, kubeHttp, type Ref } from '../../../local/kube-requests.js';

/**
 * The form an object is compared in across clusters: sanitised as a backup
 * stores it (kind rules included: they name what the target's API server
 * and controllers assign afresh), a custom resource's status kept, our
 * restore label and owner uids (new in every cluster; checked on their
 * own) left out.
 */
function comparableAcross(obj: KubeObject, group: string): KubeObject {
  const s = sanitize(obj, { keepStatus: !isBuiltinGroup(group) });
  if (s.metadata.labels) {
    delete s.metadata.labels[RESTORE_LABEL];
    if (Object.keys(s.metadata.labels).length === 0) delete s.metadata.labels;
  }
  for (const o of s.metadata.ownerReferences ?? []) o.uid = '';
  return s;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('restore fidelity: a varied workload comes back as it was', function () {
  this.timeout(300_000);
  let source: KubeHttp;
  let target: KubeHttp;
  let store: ObjectStore;
  let sealer: Sealer;
  let n: FidelityNames;
  let seeded: Seeded[];
  let catalog: Catalog;
  let report: RestoreReport;
  const id = unique('f').slice(2);
  const backupId = unique('fidelity');
  const sprockets = (version: string): Ref => ({
    group: n.sprocketGroup,
    version,
    resource: 'sprockets',
    namespaced: true,
  });
  const gizmos: () => Ref = () => ({
    group: n.gizmoGroup,
    version: 'v1',
    resource: 'gizmos',
    namespaced: true,
  });

  before(async () => {
    source = kubeHttp('source');
    target = kubeHttp('target');
    store = await gcsStore();
    let encryption;
    ({ sealer, encryption } = await sealerFor(store));
    n = fidelityNames(`fidelity-${id}`, id);
    // The target is newer: it already serves the sprocket CRD, at v2 only.
    for (const newer of [newerSprocketCrd(n), newerCrankCrd(n)]) {
      await create(target, F.crds, newer);
      await waitEstablished(target, newer.metadata.name);
    }
    seeded = await seedFidelityWorkload(source, n);
    ({ catalog } = await runBackup(
      { http: source, store, sealer, encryption },
      {
        backupId,
        cluster: SOURCE,
        policy: policy({
          filters: {
            includeNamespaces: [n.ns],
            includeClusterResources: 'on',
            labelSelector: `fidelity.lifeboat.dev/run=${id}`,
          },
        }),
      },
    ));
    report = await runRestore(
      { http: target, store, sealer },
      {
        restoreId: unique('fidelity'),
        source: SOURCE,
        backupId,
        target: TARGET,
        // skip: the newer CRDs the target has stay as they are. Cranks are restored on their own below.
        options: restoreOptions({
          conflictPolicy: 'skip',
          excludeResources: [`cranks.${n.sprocketGroup}`],
        }),
      },
    );
  });

  after(async () => {
    // Whatever this test made outside its namespace would be in the next whole-cluster backup
    // of this environment, and would conflict in the target with what it left there (the
    // sprocket CRD the target serves at another version): every cluster-scoped object goes,
    // CRDs and namespaces included, in both clusters.
    const clusterScoped = (seeded ?? []).filter((s) => !s.ref.namespaced);
    for (const http of [source, target]) {
      for (const s of clusterScoped)
        await http
          ?.request('DELETE', resourcePath(s.ref, undefined, s.name))
          .catch(() => undefined);
    }
    if (n) {
      for (const crd of [newerSprocketCrd(n), newerCrankCrd(n)])
        await target
          ?.request('DELETE', resourcePath(F.crds, undefined, crd.metadata.name))
          .catch(() => undefined);
    }
    // The failing webhook and the unavailable APIService would trouble later tests in this environment.
    for (const http of [source, target]) {
      for (const [ref, name] of [
        [F.webhooks, `deny-${id}`],
        [F.apiservices, `v1alpha1.unavailable-${id}.lifeboat.dev`],
      ] as const) {
        await http
          ?.request('DELETE', `/apis/${ref.group}/${ref.version}/${ref.resource}/${name}`)
          .catch(() => undefined);
      }
    }
  });

  it('backs up everything, the unavailable APIService a warning and not a failure', () => {
    assert.equal(catalog.phase, 'Completed', catalog.errors.join('; '));
    assert.ok(
      catalog.warnings.some((w) => w.includes(`unavailable-${id}.lifeboat.dev`)),
      `no warning about the unavailable API: ${catalog.warnings.join('; ')}`,
    );
    // And the Endpoints and EndpointSlices the target's controllers made for the labelled Services.
    assert.ok(catalog.counts.objects >= seeded.length, `${catalog.counts.objects} objects`);
  });

  it('restores Completed, the newer CRD kept, the failing webhook and APIService reported', () => {
    const failed = report.outcomes.filter((o) => o.outcome === 'failed');
    assert.deepEqual(failed, [], JSON.stringify(failed));
    assert.equal(report.phase, 'Completed', report.errors.join('; '));
    const managed =
      /^(endpoints|endpointslices\.discovery\.k8s\.io) are maintained by controllers$/;
    const skipped = report.outcomes.filter(
      (o) => o.outcome === 'skipped' && !managed.test(o.reason ?? ''),
    );
    assert.deepEqual(skipped.map((o) => [o.name, o.reason]).sort(), [
      [`cranks.${n.sprocketGroup}`, 'already exists in the target (conflict policy skip)'],
      ['handle', 'resource not selected for this restore'],
      [`sprockets.${n.sprocketGroup}`, 'already exists in the target (conflict policy skip)'],
    ]);
    const webhook = report.outcomes.find((o) => o.name === `deny-${id}`);
    assert.equal(webhook?.outcome, 'restored');
    assert.match(webhook.reason ?? '', /absent-webhook does not exist in the target/);
    assert.match(webhook.reason ?? '', /requests it matches are refused/);
    const api = report.outcomes.find((o) => o.name === `v1alpha1.unavailable-${id}.lifeboat.dev`);
    assert.equal(api?.outcome, 'restored');
    assert.match(api.reason ?? '', /absent-api does not exist in the target/);
  });

  it('gives back every object field by field, annotations and custom status included', async () => {
    // The sprocket and what it owns live at another version in the target: checked below.
    const elsewhere = new Set([
      `sprockets.${n.sprocketGroup}`,
      'cog',
      'sprocket-config',
      `cranks.${n.sprocketGroup}`,
      'handle',
    ]);
    let compared = 0;
    for (const s of seeded) {
      if (elsewhere.has(s.name)) continue;
      const original = await get(source, s.ref, s.namespace, s.name);
      const restored = await get(target, s.ref, s.namespace, s.name);
      const what = `${s.ref.resource} ${s.namespace ?? ''}/${s.name}`;
      assert.ok(original, `${what} is gone from the source`);
      assert.ok(restored, `${what} was not restored`);
      assert.deepEqual(
        comparableAcross(restored, s.ref.group),
        comparableAcross(original, s.ref.group),
        what,
      );
      compared += 1;
    }
    assert.equal(compared, seeded.length - elsewhere.size);
    const web = await get(target, F.deployments, n.ns, 'web');
    assert.ok(web?.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']);
    const gizmo = await get(target, gizmos(), n.ns, 'alpha');
    assert.deepEqual(gizmo?.['status'], { phase: 'Ready', observedGeneration: 1, shards: [1, 2] });
    const pinned = await get(target, F.services, n.ns, 'pinned');
    const ports = (pinned?.['spec'] as { ports: { nodePort?: number }[] }).ports;
    assert.equal(ports[0]?.nodePort, 30777, 'the nodePort the user applied is kept');
    const job = await get(target, F.jobs, n.ns, 'once');
    const sourceJob = await get(source, F.jobs, n.ns, 'once');
    const selector = (o: KubeObject | undefined): unknown =>
      (o?.['spec'] as { selector: unknown }).selector;
    assert.ok(selector(job), 'the target generated a selector');
    assert.notDeepEqual(
      selector(job),
      selector(sourceJob),
      "the selector names the target Job's uid",
    );
  });

  it('restores a custom resource into a target that serves its CRD only at a newer version', async () => {
    const crd = await get(target, F.crds, undefined, `sprockets.${n.sprocketGroup}`);
    const versions = (crd?.['spec'] as { versions: { name: string; served: boolean }[] }).versions;
    assert.deepEqual(
      versions.filter((v) => v.served).map((v) => v.name),
      ['v2'],
    );
    const original = await get(source, sprockets('v1'), n.ns, 'cog');
    const restored = await get(target, sprockets('v2'), n.ns, 'cog');
    assert.ok(original && restored, 'sprocket cog was not restored at v2');
    assert.deepEqual(
      comparableAcross(restored, n.sprocketGroup),
      comparableAcross({ ...original, apiVersion: `${n.sprocketGroup}/v2` }, n.sprocketGroup),
    );
    assert.deepEqual(restored['status'], { turning: true });
    const owned = await get(target, F.configmaps, n.ns, 'sprocket-config');
    assert.deepEqual(
      owned?.metadata.ownerReferences?.map((o) => [o.apiVersion, o.uid]),
      [[`${n.sprocketGroup}/v2`, restored.metadata['uid']]],
    );
  });

  it('refuses, naming the versions, a custom resource only a conversion webhook could convert', async () => {
    const cranks = await runRestore(
      { http: target, store, sealer },
      {
        restoreId: unique('fidelity-cranks'),
        source: SOURCE,
        backupId,
        target: TARGET,
        options: restoreOptions({ includeResources: [`cranks.${n.sprocketGroup}`] }),
      },
    );
    assert.equal(cranks.phase, 'Failed');
    const handle = cranks.outcomes.find((o) => o.name === 'handle');
    assert.equal(handle?.outcome, 'failed');
    assert.equal(
      handle.reason,
      `${n.sprocketGroup}/v1 is not served by the target (it serves v2); ` +
        'its CRD converts through a Webhook strategy, which only a server can apply',
    );
  });

  it('leaves status out when asked (restoreStatus false), the spec restored all the same', async () => {
    const bare = `${n.ns}-bare`;
    const again = await runRestore(
      { http: target, store, sealer },
      {
        restoreId: unique('fidelity-bare'),
        source: SOURCE,
        backupId,
        target: TARGET,
        options: restoreOptions({
          restoreStatus: false,
          includeNamespaces: [n.ns],
          includeResources: ['namespaces', `gizmos.${n.gizmoGroup}`],
          namespaceMapping: { [n.ns]: bare },
          // Out of the restored webhook's reach, which matches the namespace's label.
          transformations: [
            {
              resources: ['namespaces'],
              patch: [{ op: 'remove', path: '/metadata/labels/fidelity.lifeboat.dev~1webhook' }],
            },
          ],
        }),
      },
    );
    assert.equal(again.phase, 'Completed', JSON.stringify(again.outcomes));
    const gizmo = await get(target, gizmos(), bare, 'alpha');
    assert.deepEqual(gizmo?.['spec'], { size: 3 });
    assert.equal(gizmo['status'], undefined);
  });

  it('keeps owned objects through garbage collection, their owner uids re-pointed', async () => {
    const owned: [Ref, string, Ref, string | undefined, string][] = [
      [F.configmaps, 'gizmo-config', gizmos(), n.ns, 'alpha'],
      [
        F.secrets,
        'realm-credentials',
        { group: n.gizmoGroup, version: 'v1', resource: 'realms', namespaced: false },
        undefined,
        `realm-${id}`,
      ],
      [F.configmaps, 'sprocket-config', sprockets('v2'), n.ns, 'cog'],
    ];
    // The control: a dependent whose owner is not there (uid and all) is collected. In a
    // namespace of its own, which the restored webhook does not intercept.
    const controlNs = `gc-control-${id}`;
    await create(target, F.namespaces, { metadata: { name: controlNs } });
    await create(target, F.configmaps, {
      metadata: {
        name: 'stale-owner',
        namespace: controlNs,
        ownerReferences: [
          { apiVersion: `${n.gizmoGroup}/v1`, kind: 'Gizmo', name: 'alpha', uid: 'stale-uid' },
        ],
      },
    });
    // Long enough for the garbage collector to have synced and judged every dependent.
    const until = Date.now() + 30_000;
    let collected = false;
    while (Date.now() < until) {
      collected ||= (await get(target, F.configmaps, controlNs, 'stale-owner')) === undefined;
      for (const [ref, name, ownerRef, ownerNs, ownerName] of owned) {
        const obj = await get(target, ref, n.ns, name);
        assert.ok(obj, `${name} was garbage-collected`);
        const ownerObj = await get(target, ownerRef, ownerNs, ownerName);
        assert.ok(ownerObj?.metadata['uid'], `owner ${ownerName} of ${name} is not in the target`);
        assert.equal(obj.metadata.ownerReferences?.[0]?.uid, ownerObj?.metadata['uid']);
      }
      await sleep(3000);
    }
    assert.ok(collected, 'the garbage collector did not run: the check above proves nothing');
  });

  it('the webhook blocked nothing of the restore, and does intercept what comes after', async () => {
    await assert.rejects(
      create(target, F.configmaps, { metadata: { name: 'after', namespace: n.ns } }),
      (error: unknown) =>
        error instanceof KubeApiError && /deny\./.test(error.message) && error.status >= 400,
    );
  });
});
