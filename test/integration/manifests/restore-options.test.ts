import { strict as assert } from 'node:assert';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import type { KubeHttp } from '../../../shared/kube/kube-http.js';
import {
  runRestore,
  runRestoreStep,
  type RestoreJob,
} from '../../../shared/restore/run-restore.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { Deadline } from '../../../shared/time/deadline.js';
import {
  gcsStore,
  policy,
  restoreOptions,
  sealerFor,
  SOURCE,
  TARGET,
} from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { create, ensure, get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { seedWorkload, WIDGET_CRD } from '../../../local/sample-workload.js';
import { waitEstablished } from '../../../shared/restore/apply-object.js';

/** Only the namespaced objects: cluster-scoped ones are shared by every test on the target. */
const NAMESPACED_ONLY = {
  excludeResources: [
    'persistentvolumes',
    'clusterroles.*',
    'clusterrolebindings.*',
    'customresourcedefinitions.*',
  ],
};

describe('restore options on the real target API server', function () {
  this.timeout(180_000);
  let source: KubeHttp;
  let store: ObjectStore;
  let sealer: Sealer;
  let ns: string;
  const backupId = unique('opts');

  const restore = (
    options: Record<string, unknown>,
    http: KubeHttp = kubeHttp('target'),
  ): Promise<Awaited<ReturnType<typeof runRestore>>> => {
    const job: RestoreJob = {
      restoreId: unique('r'),
      source: SOURCE,
      backupId,
      target: TARGET,
      options: restoreOptions({ includeNamespaces: [ns], ...NAMESPACED_ONLY, ...options }),
    };
    return runRestore({ http, store, sealer }, job);
  };

  before(async () => {
    source = kubeHttp('source');
    store = await gcsStore();
    let encryption;
    ({ sealer, encryption } = await sealerFor(store));
    ns = unique('opts');
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
  });

  it('maps namespaces, including the references inside RoleBindings', async () => {
    const mapped = unique('mapped');
    const report = await restore({ namespaceMapping: { [ns]: mapped } });
    assert.equal(
      report.counts.failed,
      0,
      JSON.stringify(report.outcomes.filter((o) => o.outcome === 'failed')),
    );
    const target = kubeHttp('target');
    assert.ok(await get(target, R.namespaces, undefined, mapped));
    assert.equal(await get(target, R.namespaces, undefined, ns), undefined);
    assert.equal((await get(target, R.configmaps, mapped, 'settings'))?.['data'] && 'blue', 'blue');
    const binding = await get(target, R.rolebindings, mapped, 'deployer-reads');
    assert.deepEqual((binding?.['subjects'] as { namespace: string }[])[0]?.namespace, mapped);
    assert.equal((await list(target, R.widgets, mapped)).length, 2);
  });

  describe('conflict policies', () => {
    const mapped = unique('conflict');
    before(async () => {
      const first = await restore({ namespaceMapping: { [ns]: mapped } });
      assert.equal(first.counts.failed, 0);
      const target = kubeHttp('target');
      const live = await get(target, R.configmaps, mapped, 'settings');
      assert.ok(live);
      await target.request('PUT', `/api/v1/namespaces/${mapped}/configmaps/settings`, {
        body: { ...live, data: { color: 'changed-in-target' } },
      });
    });

    it('fail: reports every existing object as failed and changes nothing', async () => {
      const report = await restore({ namespaceMapping: { [ns]: mapped }, conflictPolicy: 'fail' });
      const settings = report.outcomes.find((o) => o.kind === 'ConfigMap' && o.name === 'settings');
      assert.equal(settings?.outcome, 'failed');
      assert.match(settings?.reason ?? '', /already exists/);
      assert.equal(report.phase, 'Failed');
      const live = await get(kubeHttp('target'), R.configmaps, mapped, 'settings');
      assert.deepEqual(live?.['data'], { color: 'changed-in-target' });
    });

    it('skip: keeps the live objects and says so', async () => {
      const report = await restore({ namespaceMapping: { [ns]: mapped }, conflictPolicy: 'skip' });
      assert.equal(report.counts.failed, 0);
      const settings = report.outcomes.find((o) => o.kind === 'ConfigMap' && o.name === 'settings');
      assert.equal(settings?.outcome, 'skipped');
      const live = await get(kubeHttp('target'), R.configmaps, mapped, 'settings');
      assert.deepEqual(live?.['data'], { color: 'changed-in-target' });
    });

    it('replace: makes the live objects equal to the backup again', async () => {
      const report = await restore({
        namespaceMapping: { [ns]: mapped },
        conflictPolicy: 'replace',
      });
      assert.equal(
        report.counts.failed,
        0,
        JSON.stringify(report.outcomes.filter((o) => o.outcome === 'failed')),
      );
      assert.equal(
        report.outcomes.find((o) => o.kind === 'ConfigMap' && o.name === 'settings')?.outcome,
        'replaced',
      );
      assert.ok(report.counts.skipped > 10, 'identical objects are left as they are');
      const live = await get(kubeHttp('target'), R.configmaps, mapped, 'settings');
      assert.deepEqual(live?.['data'], { color: 'blue', 'app.yaml': 'a: 1\n' });
    });
  });

  it('applies transformation rules to the objects their filter matches', async () => {
    const mapped = unique('xform');
    const report = await restore({
      namespaceMapping: { [ns]: mapped },
      transformations: [
        {
          description: 'scale to zero',
          resources: ['deployments.apps'],
          patch: [{ op: 'replace', path: '/spec/replicas', value: 0 }],
        },
        {
          resources: ['configmaps'],
          names: ['settings'],
          patch: [{ op: 'add', path: '/metadata/labels', value: { restored: 'yes' } }],
        },
      ],
    });
    assert.equal(report.counts.failed, 0);
    const target = kubeHttp('target');
    assert.equal(
      ((await get(target, R.deployments, mapped, 'web'))?.['spec'] as { replicas: number })
        .replicas,
      0,
    );
    assert.equal(
      (await get(target, R.configmaps, mapped, 'settings'))?.metadata.labels?.['restored'],
      'yes',
    );
    assert.equal(
      (await get(target, R.configmaps, mapped, 'guarded'))?.metadata.labels?.['restored'],
      undefined,
    );
  });

  it('reports a transformation that cannot apply as a failure of that object alone', async () => {
    const mapped = unique('badx');
    const report = await restore({
      namespaceMapping: { [ns]: mapped },
      transformations: [
        {
          description: 'broken',
          resources: ['services'],
          patch: [{ op: 'remove', path: '/spec/doesNotExist' }],
        },
      ],
    });
    const services = report.outcomes.filter((o) => o.kind === 'Service');
    assert.ok(services.length >= 3);
    assert.ok(
      services.every(
        (s) => s.outcome === 'failed' && /transformation "broken" failed/.test(s.reason ?? ''),
      ),
    );
    assert.ok(report.counts.restored > 10);
    assert.equal(report.phase, 'PartiallyFailed');
  });

  it('dry run reports what would happen and writes nothing', async () => {
    const mapped = unique('dry');
    const target = kubeHttp('target');
    await create(target, R.namespaces, { metadata: { name: mapped } });
    await create(target, R.configmaps, {
      metadata: { name: 'settings', namespace: mapped },
      data: { x: 'y' },
    });
    // The target's controllers add kube-root-ca.crt to each new namespace, whenever they get to it.
    const configMaps = async (): Promise<number> =>
      (await list(target, R.configmaps)).filter((c) => c.metadata.name !== 'kube-root-ca.crt')
        .length;
    const before = await configMaps();
    const dryTarget = kubeHttp('target');
    const report = await restore({ namespaceMapping: { [ns]: mapped }, dryRun: true }, dryTarget);
    assert.equal(report.dryRun, true);
    assert.deepEqual(Object.keys(dryTarget.requestCounts).sort(), ['GET']);
    assert.equal(
      report.outcomes.find((o) => o.kind === 'ConfigMap' && o.name === 'settings')?.outcome,
      'would-conflict',
    );
    assert.ok(report.counts['would-restore'] > 10);
    assert.equal(report.counts.restored, 0);
    assert.equal(await configMaps(), before);
    assert.equal((await list(target, R.deployments, mapped)).length, 0);
  });

  it('chains steps at a deadline and resumes a redelivered step without failures', async () => {
    const mapped = unique('chain');
    const target = kubeHttp('target');
    const job: RestoreJob = {
      restoreId: unique('chain'),
      source: SOURCE,
      backupId,
      target: TARGET,
      options: restoreOptions({
        includeNamespaces: [ns],
        ...NAMESPACED_ONLY,
        namespaceMapping: { [ns]: mapped },
      }),
    };
    let steps = 0;
    let step = await runRestoreStep({ http: target, store, sealer }, job, Deadline.at(0));
    while (step.status === 'continue') {
      steps += 1;
      if (steps === 2) {
        // A crash after a chunk was applied but before its progress was saved: the step is redelivered.
        const key = Layout.restoreProgress(job.restoreId);
        const before = await store.get(key);
        await runRestoreStep({ http: target, store, sealer }, job, Deadline.at(0));
        await store.put(key, before);
      }
      step = await runRestoreStep({ http: target, store, sealer }, job, Deadline.at(0));
    }
    assert.ok(steps >= 3, `only ${steps} steps`);
    assert.equal(
      step.report.counts.failed,
      0,
      JSON.stringify(step.report.outcomes.filter((o) => o.outcome === 'failed')),
    );
    assert.ok(step.report.counts.restored > 15);
    assert.equal(
      new Set(step.report.outcomes.map((o) => `${o.kind}/${o.namespace}/${o.name}`)).size,
      step.report.outcomes.length,
    );
    assert.equal((await list(target, R.widgets, mapped)).length, 2);
  });

  describe('a tampered or incomplete backup is refused before the cluster is touched', () => {
    const tampered = async (
      mutate: () => Promise<void>,
      undo: () => Promise<void>,
      message: RegExp,
    ): Promise<void> => {
      await mutate();
      const target = kubeHttp('target');
      try {
        await assert.rejects(
          restore({ namespaceMapping: { [ns]: unique('never') } }, target),
          message,
        );
        assert.deepEqual(target.requestCounts, {});
      } finally {
        await undo();
      }
    };

    it('refuses a catalog edited after the backup', async () => {
      const key = Layout.catalog(SOURCE, backupId);
      const original = await store.get(key);
      await tampered(
        () =>
          store.put(
            key,
            original
              .toString()
              .replace(/"objects": (\d+)/, (_, n: string) => `"objects": ${Number(n) + 1}`),
          ),
        () => store.put(key, original),
        /does not match its digest/,
      );
    });

    it('refuses a pack whose bytes changed', async () => {
      const catalog = JSON.parse(
        (await store.get(Layout.catalog(SOURCE, backupId))).toString(),
      ) as { packs: { digest: string }[] };
      const { gzipSync, gunzipSync } = await import('node:zlib');
      // The pack holding the ConfigMap's colour, whichever place the catalog gives it.
      const packs = await Promise.all(
        catalog.packs.map(async ({ digest }) => {
          const bytes = await store.get(Layout.pack(digest));
          return { key: Layout.pack(digest), bytes, text: gunzipSync(bytes).toString() };
        }),
      );
      const holder = packs.find((p) => p.text.includes('"blue"'));
      assert.ok(holder, 'no pack holds "blue"');
      const { key, bytes: original } = holder;
      const edited = gzipSync(Buffer.from(holder.text.replace('"blue"', '"BLUE"')));
      await tampered(
        () => store.put(key, edited),
        () => store.put(key, original),
        /modified after the backup|does not match/,
      );
    });

    it('refuses a backup with a missing pack, naming it', async () => {
      const catalog = JSON.parse(
        (await store.get(Layout.catalog(SOURCE, backupId))).toString(),
      ) as { packs: { digest: string }[] };
      const key = Layout.pack(catalog.packs[0]!.digest);
      const original = await store.get(key);
      await tampered(
        () => store.delete(key),
        () => store.put(key, original),
        new RegExp(`incomplete: pack ${catalog.packs[0]!.digest}`),
      );
    });
  });
});
