import { strict as assert } from 'node:assert';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { drillRestoreId } from '../../../shared/drill/drill-names.js';
import { runDrill, runDrillStep } from '../../../shared/drill/run-drill.js';
import { DrillPolicy, type DrillJob } from '../../../shared/messages/drill.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { Deadline } from '../../../shared/time/deadline.js';
import { validate } from '../../../shared/validate.js';
import { gcsStore, policy, SOURCE, TARGET } from '../../../local/backup-fixture.js';
import { kubeConfigFor, unique } from '../../../local/settings.js';
import { create, kubeHttp, list, R } from '../../../local/kube-requests.js';

const drillId = (): string => unique('t').replace('-', '');
const TIMEOUT_S = 30;

/**
 * A drill that runs out of its policy's time stops its restore half-way.
 * The restore's saved progress and its lease on the backup must not stay in
 * the store: `restore get` would show a restore running forever, and the
 * lease would hold off retention. Progress that is not the drill's own is
 * never touched.
 */
describe('a drill that times out', function () {
  this.timeout(120_000);
  let store: ObjectStore;
  let ns: string;
  let backupId: string;

  const job = (id: string): DrillJob => ({
    apiVersion: 'lifeboat.dev/v1',
    kind: 'DrillJob',
    drillId: id,
    policy: validate(
      DrillPolicy,
      {
        name: 'weekly',
        projects: ['local'],
        drillCluster: TARGET,
        namespaces: [ns],
        restoreVolumes: false,
        timeoutSeconds: TIMEOUT_S,
      },
      'test drill policy',
    ),
    cluster: SOURCE,
    backupId,
    // Requested a timeout ago: the restore's first step is its last.
    requestedAt: new Date(Date.now() - TIMEOUT_S * 1000).toISOString(),
  });

  const drillNamespaces = async (id: string): Promise<string[]> =>
    (await list(kubeHttp('target'), R.namespaces))
      .map((n) => n.metadata.name)
      .filter((n) => n.startsWith(`drill-${id}-`));

  before(async () => {
    store = await gcsStore();
    ns = unique('timed');
    const source = kubeHttp('source');
    await create(source, R.namespaces, { metadata: { name: ns } });
    // A second wave after the namespace: the step saves its progress between the two.
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns },
      data: { mode: 'production' },
    });
    backupId = unique('timed');
    const { catalog } = await runBackup(
      { http: source, store },
      { backupId, cluster: SOURCE, policy: policy({ filters: { includeNamespaces: [ns] } }) },
    );
    assert.equal(catalog.phase, 'Completed');
  });

  it('fails, and leaves neither the restore progress nor its lease in the store', async () => {
    const id = drillId();
    const restoreId = drillRestoreId(id);
    const progressKey = Layout.restoreProgress(restoreId);
    // The real store, noting each key the drill writes: the restore saved its progress.
    const written: string[] = [];
    const noting = new Proxy(store, {
      get(target, property, receiver): unknown {
        if (property === 'put') {
          return (key: string, body: Buffer | string) => {
            written.push(key);
            return target.put(key, body);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const report = await runDrill(
      {
        target: TARGET,
        kubeConfig: kubeConfigFor('target'),
        store: noting,
        cleanupTimeoutMs: 60_000,
      },
      job(id),
    );
    assert.equal(report.verdict, 'failed');
    assert.match(
      report.reasons.join('\n'),
      new RegExp(`the restore had not finished after the policy's ${TIMEOUT_S}s`),
    );
    assert.equal(report.restorePhase, undefined, 'the restore never finished');
    assert.ok(written.includes(progressKey), 'the restore had saved its progress to resume from');
    assert.equal(await store.exists(progressKey), false, 'no resumable progress left');
    assert.equal(
      await store.exists(Layout.lease(SOURCE, backupId, restoreId)),
      false,
      'no lease left holding the backup',
    );
    assert.equal(await store.exists(Layout.report(restoreId)), false, 'no restore report either');
    assert.deepEqual(report.leftBehind, []);
    assert.deepEqual(await drillNamespaces(id), [], 'what the restore made is gone');
  });

  it("hands over at the invocation's deadline before the policy's timeout, and the next invocation finishes the drill", async () => {
    const id = drillId();
    const restoreId = drillRestoreId(id);
    const timed = job(id);
    // A policy that allows the drill its time under load: only the invocation's deadline stops the first step.
    const requested = {
      ...timed,
      policy: { ...timed.policy, timeoutSeconds: 180 },
      requestedAt: new Date().toISOString(),
    };
    const deps = {
      target: TARGET,
      kubeConfig: kubeConfigFor('target'),
      store,
      cleanupTimeoutMs: 60_000,
    };
    // The function's work budget, already spent: the policy alone would allow the drill.
    const first = await runDrillStep(deps, requested, Deadline.at(Date.now()));
    assert.equal(first.status, 'continue');
    // Its first chunk (a wave of whatever the backup holds first, cluster-scoped or not) is kept.
    assert.ok(
      first.done > 0 && first.done < first.total,
      `${first.done}/${first.total} restored so far`,
    );
    assert.equal(await store.exists(Layout.restoreProgress(restoreId)), true, 'progress to resume');
    assert.equal(
      await store.exists(Layout.lease(SOURCE, backupId, restoreId)),
      true,
      'the backup stays leased between the invocations',
    );
    assert.equal(await store.exists(Layout.drillIndex(id)), false, 'no report before the end');

    const second = await runDrillStep(deps, requested, Deadline.after(60_000));
    assert.equal(second.status, 'done');
    if (second.status !== 'done') return;
    const { report } = second;
    assert.equal(report.verdict, 'passed', report.reasons.join('\n'));
    assert.equal(report.restorePhase, 'Completed');
    assert.equal(report.requestedAt, requested.requestedAt, 'the RTO counts from the request');
    assert.ok(report.objects.compared >= 2, 'the namespace and the ConfigMap were compared');
    assert.deepEqual(report.leftBehind, []);
    assert.deepEqual(await drillNamespaces(id), [], 'what the restore made is gone');
    assert.equal(await store.exists(Layout.restoreProgress(restoreId)), false);
  });

  it("leaves alone progress under the drill's restore id that another request saved", async () => {
    const id = drillId();
    const restoreId = drillRestoreId(id);
    const progressKey = Layout.restoreProgress(restoreId);
    const foreign = JSON.stringify({
      requestDigest: 'f'.repeat(64),
      startedAt: new Date().toISOString(),
      done: 1,
      outcomes: [],
      errors: [],
      volumes: [],
    });
    await store.put(progressKey, foreign);
    const report = await runDrill(
      { target: TARGET, kubeConfig: kubeConfigFor('target'), store, cleanupTimeoutMs: 60_000 },
      job(id),
    );
    assert.equal(report.verdict, 'failed');
    assert.match(report.reasons.join('\n'), /is already running/);
    assert.equal(
      (await store.get(progressKey)).toString('utf8'),
      foreign,
      'the other restore keeps its progress',
    );
    assert.deepEqual(await drillNamespaces(id), []);
  });
});
