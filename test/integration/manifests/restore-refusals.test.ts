import { strict as assert } from 'node:assert';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import { PermanentError } from '../../../shared/errors.js';
import type { KubeHttp } from '../../../shared/kube/kube-http.js';
import type { RestoreReport } from '../../../shared/restore/report.js';
import {
  restoreContentDigest,
  runRestore,
  type RestoreJob,
} from '../../../shared/restore/run-restore.js';
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
import { waitEstablished } from '../../../shared/restore/apply-object.js';
import { ensure, get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { seedWorkload, WIDGET_CRD } from '../../../local/sample-workload.js';

/** Only the namespaced objects: cluster-scoped ones are shared by every test on the target. */
const NAMESPACED_ONLY = {
  excludeResources: [
    'persistentvolumes',
    'clusterroles.*',
    'clusterrolebindings.*',
    'customresourcedefinitions.*',
  ],
};

const NAMESPACED_KINDS = [
  R.configmaps,
  R.secrets,
  R.services,
  R.serviceaccounts,
  R.pvcs,
  R.deployments,
  R.statefulsets,
  R.roles,
  R.rolebindings,
  R.widgets,
] as const;

/** Every object of the usual kinds in a target namespace, and whether the namespace exists. */
async function objectsIn(ns: string): Promise<{ namespace: boolean; objects: number }> {
  const target = kubeHttp('target');
  let objects = 0;
  for (const ref of NAMESPACED_KINDS) objects += (await list(target, ref, ns)).length;
  return { namespace: (await get(target, R.namespaces, undefined, ns)) !== undefined, objects };
}

describe('restore refusals: nothing written when the restore cannot be what was asked', function () {
  this.timeout(180_000);
  let source: KubeHttp;
  let store: ObjectStore;
  let sealer: Sealer;
  let ns: string;
  const backupId = unique('refuse');

  const job = (
    restoreId: string,
    mapped: string,
    extra: Record<string, unknown> = {},
  ): RestoreJob => ({
    restoreId,
    source: SOURCE,
    backupId,
    target: TARGET,
    options: restoreOptions({
      includeNamespaces: [ns],
      ...NAMESPACED_ONLY,
      namespaceMapping: { [ns]: mapped },
      ...extra,
    }),
  });

  before(async () => {
    source = kubeHttp('source');
    store = await gcsStore();
    let encryption;
    ({ sealer, encryption } = await sealerFor(store));
    ns = unique('refuse');
    await seedWorkload(source, ns);
    // Custom resources need their CRD in the target; these tests leave cluster-scoped objects out.
    const target = kubeHttp('target');
    await ensure(target, R.crds, WIDGET_CRD);
    await waitEstablished(target, WIDGET_CRD.metadata.name);
    const { catalog } = await runBackup(
      { http: source, store, sealer, encryption },
      { backupId, cluster: SOURCE, policy: policy({ filters: { includeNamespaces: [ns] } }) },
    );
    assert.equal(catalog.phase, 'Completed');
    assert.ok(catalog.counts.secrets > 0, 'the backup holds sealed Secrets');
  });

  describe('every sealed Secret opens before the first write', () => {
    it('with another store’s data key: zero objects written, the report says why', async () => {
      const { sealer: otherKey } = await sealerFor(await gcsStore());
      const mapped = unique('wrongkey');
      const report = await runRestore(
        { http: kubeHttp('target'), store, sealer: otherKey },
        job(unique('r'), mapped),
      );
      assert.equal(report.phase, 'Failed');
      assert.match(report.errors.join('\n'), /refused before any write/);
      assert.equal(report.counts.restored, 0);
      assert.ok(
        report.outcomes.some((o) => o.kind === 'Secret' && o.outcome === 'failed'),
        JSON.stringify(report.outcomes),
      );
      assert.deepEqual(await objectsIn(mapped), { namespace: false, objects: 0 });
      const stored = JSON.parse(
        (await store.get(Layout.report(report.restoreId))).toString('utf8'),
      ) as RestoreReport;
      assert.equal(stored.phase, 'Failed');
      assert.equal(await store.exists(Layout.restoreProgress(report.restoreId)), false);
    });

    it('without a key while Secrets are selected: zero objects written', async () => {
      const mapped = unique('nokey');
      const report = await runRestore(
        { http: kubeHttp('target'), store },
        job(unique('r'), mapped),
      );
      assert.equal(report.phase, 'Failed');
      assert.match(report.errors.join('\n'), /refused before any write.*LIFEBOAT_KEY_FILE/s);
      assert.deepEqual(await objectsIn(mapped), { namespace: false, objects: 0 });
    });

    it('without a key when no Secret is selected: the rest is restored', async () => {
      const mapped = unique('nosecrets');
      const report = await runRestore(
        { http: kubeHttp('target'), store },
        job(unique('r'), mapped, {
          excludeResources: [...NAMESPACED_ONLY.excludeResources, 'secrets'],
        }),
      );
      assert.equal(report.counts.failed, 0, JSON.stringify(report.errors));
      const after = await objectsIn(mapped);
      assert.equal(after.namespace, true);
      assert.ok(after.objects > 0);
      assert.equal((await list(kubeHttp('target'), R.secrets, mapped)).length, 0);
    });
  });

  describe('one restore id, one request', () => {
    it('refuses a second request with the same id and other content; the first report stays', async () => {
      const restoreId = unique('r');
      const first = job(restoreId, unique('first'));
      const report = await runRestore({ http: kubeHttp('target'), store, sealer }, first);
      assert.equal(report.phase, 'Completed', JSON.stringify(report.errors));
      const reportBefore = (await store.get(Layout.report(restoreId))).toString('utf8');

      const otherMapped = unique('second');
      await assert.rejects(
        runRestore({ http: kubeHttp('target'), store, sealer }, job(restoreId, otherMapped)),
        (error: unknown) =>
          error instanceof PermanentError &&
          /refused: that restore id already finished \(Completed\)/.test(error.message),
      );
      assert.equal((await store.get(Layout.report(restoreId))).toString('utf8'), reportBefore);
      assert.deepEqual(await objectsIn(otherMapped), { namespace: false, objects: 0 });

      // A redelivery of the same request is still answered, as before.
      const again = await runRestore({ http: kubeHttp('target'), store, sealer }, first);
      assert.equal(again.phase, 'Completed', JSON.stringify(again.errors));
      assert.equal(again.requestDigest, report.requestDigest);
    });

    it('a request refused before any write (an unknown backup) does not keep its id', async () => {
      const restoreId = unique('r');
      await assert.rejects(
        runRestore(
          { http: kubeHttp('target'), store, sealer },
          { ...job(restoreId, unique('unknown')), backupId: 'no-such-backup' },
        ),
        /no-such-backup/,
      );
      assert.equal(await store.exists(Layout.restoreProgress(restoreId)), false);
      assert.equal(await store.exists(Layout.report(restoreId)), false);
      const report = await runRestore(
        { http: kubeHttp('target'), store, sealer },
        job(restoreId, unique('reused')),
      );
      assert.equal(report.phase, 'Completed', JSON.stringify(report.errors));
    });

    it('refuses a backup taken under a policy its plan does not cover, before any write', async () => {
      const restoreId = unique('r');
      const mapped = unique('otherpolicy');
      // The fixture's backups are taken under policy "test"; the plan (a standby:) allows only "nightly".
      await assert.rejects(
        runRestore(
          { http: kubeHttp('target'), store, sealer },
          { ...job(restoreId, mapped), backupPolicies: ['nightly'] },
        ),
        (error: unknown) =>
          error instanceof PermanentError &&
          /taken under policy test; this restore may only restore backups of nightly/.test(
            error.message,
          ),
      );
      assert.deepEqual(await objectsIn(mapped), { namespace: false, objects: 0 });
      assert.equal(await store.exists(Layout.restoreProgress(restoreId)), false);
      assert.equal(await store.exists(Layout.lease(SOURCE, backupId, restoreId)), false);
    });

    it('refuses a request whose id is held by another running restore; its redelivery goes on', async () => {
      const restoreId = unique('r');
      const mapped = unique('running');
      const running = job(restoreId, mapped);
      // A restore in progress under this id (as a step that ran out of time leaves it).
      await store.put(
        Layout.restoreProgress(restoreId),
        JSON.stringify({
          requestDigest: restoreContentDigest({ some: 'other request' }),
          startedAt: new Date().toISOString(),
          done: 0,
          outcomes: [],
          errors: [],
          volumes: [],
        }),
      );
      await assert.rejects(
        runRestore({ http: kubeHttp('target'), store, sealer }, running),
        /refused: that restore id is already running/,
      );
      assert.equal(await store.exists(Layout.report(restoreId)), false);
      assert.deepEqual(await objectsIn(mapped), { namespace: false, objects: 0 });

      // The same content under the digest the function records goes on where the claim left it.
      const digest = restoreContentDigest({ some: 'other request' });
      const report = await runRestore(
        { http: kubeHttp('target'), store, sealer },
        { ...running, requestDigest: digest },
      );
      assert.equal(report.phase, 'Completed', JSON.stringify(report.errors));
      assert.equal(report.requestDigest, digest);
      assert.equal(await store.exists(Layout.restoreProgress(restoreId)), false);
    });
  });
});
