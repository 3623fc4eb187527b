import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionName } from '../../../functions/registry.js';
import { readPlan } from '../../../shared/backup/parts.js';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { loadSealer } from '../../../shared/catalog/data-key.js';
import { LocalKeyWrapper } from '../../../shared/crypto/key-wrapper.js';
import { API_VERSION } from '../../../shared/messages/index.js';
import { loadBackup } from '../../../shared/catalog/load-backup.js';
import type { RestoreReport } from '../../../shared/restore/report.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { policy as testPolicy, SOURCE, TARGET } from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { create, get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { pdCsiVolume } from '../../../local/pd-volume.js';
import { Inbox } from '../../../local/inbox.js';

type Msg = Record<string, unknown> & {
  backupId?: string;
  restoreId?: string;
  phase?: string;
  errors?: string[];
  counts?: Record<string, number>;
  policy?: { name?: string };
};

interface LogLine {
  message?: string;
  reason?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * What a message may ask is deployed configuration: whoever can publish to
 * a topic can still only ask for a backup or restore the deployment allows.
 * Each attack below is published through the Pub/Sub emulator to the real
 * functions; each must be acknowledged with its reason in the function's
 * log, leave the store as it was, and back up or restore nothing.
 */
describe('deployed authority: messages only ask for what the deployment allows (attacks)', function () {
  this.timeout(300_000);
  let lb: LocalLifeboat;
  let backupsDone: Inbox<Msg>;
  let restored: Inbox<Msg>;
  let jobs: Inbox<Msg>;
  let shards: Inbox<Msg>;
  const policyName = unique('auth');
  const [nsA, nsB] = [unique('auth-a'), unique('auth-b')];
  /** Only on the target, and backed up there: no plan covers backups of the target. */
  const nsT = unique('auth-t');
  /** On the source, with a disk, in no namespace the policy selects. */
  const outside = unique('auth-x');
  const outsidePv = `${outside}-pv`;
  const scheduledTime = '2026-11-27T03:00:00Z';
  const backupId = `${policyName}-20261127-0300`;
  const targetBackupId = unique('auth-target');

  const deployedPolicy = {
    name: policyName,
    projects: ['local'],
    clusterNames: ['source'],
    filters: { includeNamespaces: [nsA, nsB] },
  };
  const copyPlan = {
    name: unique('copy'),
    sourceClusters: [SOURCE],
    targetClusters: [TARGET],
    // nsT is mapped too, so that restoring the target's backup, were it allowed, would show.
    options: {
      namespaceMapping: { [nsA]: `${nsA}-copy`, [nsB]: `${nsB}-copy`, [nsT]: `${nsT}-copy` },
    },
  };

  before(async () => {
    lb = await startLocalLifeboat({
      deployment: { backupPolicies: [deployedPolicy], restorePlans: [copyPlan] },
    });
    const inbox = (role: Parameters<typeof lb.pipeline.topic>[0], name: string) =>
      Inbox.open<Msg>(lb.bus, lb.pipeline.topic(role), `${lb.topicPrefix}t-${name}`);
    [backupsDone, restored, jobs, shards] = await Promise.all([
      inbox('backup-completed', 'completed'),
      inbox('restore-completed', 'restored'),
      inbox('backup-jobs', 'jobs'),
      inbox('export-shards', 'shards'),
    ]);
    const source = kubeHttp('source');
    for (const ns of [nsA, nsB, outside]) {
      await create(source, R.namespaces, { metadata: { name: ns } });
      await create(source, R.configmaps, {
        metadata: { name: 'settings', namespace: ns },
        data: { from: ns },
      });
    }
    // A disk no plan lists: snapshotting it would show in the Compute stand-in.
    await create(
      source,
      R.pvs,
      pdCsiVolume(outsidePv, {
        volumeHandle: `projects/acme/zones/europe-west1-b/disks/${outsidePv}`,
        claimRef: { namespace: outside, name: 'data' },
      }),
    );
    lb.compute.seedDisk({
      project: 'acme',
      zone: 'europe-west1-b',
      name: outsidePv,
      sizeGb: 5,
      bytes: Buffer.from('not to be snapshotted'),
    });
    // A backup of the target, sealed with the deployment's data key as the pipeline seals.
    const target = kubeHttp('target');
    await create(target, R.namespaces, { metadata: { name: nsT } });
    await create(target, R.configmaps, {
      metadata: { name: 'settings', namespace: nsT },
      data: { from: nsT },
    });
    const wrapper = new LocalKeyWrapper(lb.keyFile);
    const sealer = await loadSealer(lb.store, wrapper);
    const { catalog } = await runBackup(
      {
        http: target,
        store: lb.store,
        sealer,
        encryption: { keyId: sealer.keyId, wrappedBy: wrapper.id },
      },
      {
        backupId: targetBackupId,
        cluster: TARGET,
        policy: testPolicy({ filters: { includeNamespaces: [nsT] } }),
      },
    );
    assert.equal(catalog.phase, 'Completed');
  });

  after(async () => {
    await Promise.all([backupsDone, restored, jobs, shards].map((i) => i?.close()));
    await lb?.stop();
    const source = kubeHttp('source');
    await source.request('DELETE', `/api/v1/persistentvolumes/${outsidePv}`).catch(() => {});
  });

  async function storeKeys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const info of lb.store.list('')) keys.push(info.key);
    return keys.sort();
  }

  /** A function's log from now on. */
  function logFrom(name: FunctionName): {
    lines(): LogLine[];
    waitFor(match: (l: LogLine) => boolean, what: string): Promise<LogLine>;
  } {
    const file = join(lb.pipeline.logDir, `function-${name}.log`);
    const read = (): string => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    };
    const offset = read().length;
    const lines = (): LogLine[] =>
      read()
        .slice(offset)
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    return {
      lines,
      async waitFor(match, what) {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const found = lines().find(match);
          if (found) return found;
          if (Date.now() > deadline) {
            throw new Error(`no ${what} in ${file}; logged since: ${JSON.stringify(lines())}`);
          }
          await sleep(100);
        }
      },
    };
  }

  /**
   * Publishes an attack and checks that `fn` acknowledged it once with a
   * reason matching `reason` (a permanent failure, or a malformed message),
   * never retried it, and wrote nothing to the store.
   */
  async function refused(
    fn: FunctionName,
    topic: Parameters<typeof lb.pipeline.topic>[0],
    message: object,
    reason: RegExp,
    as: 'permanent failure' | 'rejected a malformed message' = 'permanent failure',
  ): Promise<void> {
    const keysBefore = await storeKeys();
    const log = logFrom(fn);
    await lb.bus.publish(lb.pipeline.topic(topic), message);
    const acknowledged = (l: LogLine): boolean =>
      String(l.message).includes(`${fn}: ${as} (acknowledged, not retried)`) &&
      reason.test(String(l.reason));
    await log.waitFor(acknowledged, `${as} matching ${reason}`);
    // Were it nacked, the emulator would redeliver at once.
    await sleep(2000);
    const lines = log.lines();
    assert.equal(lines.filter(acknowledged).length, 1, JSON.stringify(lines));
    assert.deepEqual(
      lines.filter((l) => /transient failure/.test(String(l.message))),
      [],
      'never retried',
    );
    assert.deepEqual(await storeKeys(), keysBefore, 'nothing written to the store');
  }

  const restoreRequest = (fields: object): Record<string, unknown> & { restoreId: string } => ({
    apiVersion: API_VERSION,
    kind: 'RestoreRequest',
    restoreId: unique('auth-r'),
    plan: copyPlan.name,
    backup: { backupId, cluster: SOURCE },
    target: TARGET,
    ...fields,
  });

  /** A restore refused by its plan: answered Failed with the reason, and nothing restored. */
  async function restoreRefused(fields: object, reason: RegExp): Promise<void> {
    const request = restoreRequest(fields);
    await refused('restore', 'restore', request, reason);
    const answer = await restored.waitFor((m) => m.restoreId === request.restoreId);
    assert.equal(answer.phase, 'Failed', JSON.stringify(answer));
    assert.match(String(answer.errors), reason);
    assert.equal(await lb.store.exists(Layout.report(request.restoreId)), false, 'no report');
  }

  const namespacesOf = async (which: 'source' | 'target'): Promise<string[]> =>
    (await list(kubeHttp(which), R.namespaces)).map((n) => n.metadata.name).sort();

  const clusterBackupJob = (fields: object): Record<string, unknown> & { backupId: string } => ({
    apiVersion: API_VERSION,
    kind: 'ClusterBackupJob',
    backupId: unique('auth-job'),
    cluster: SOURCE,
    policy: deployedPolicy,
    scheduledTime,
    ...fields,
  });

  /**
   * A ClusterBackupJob refused: answered Failed with the reason, and no
   * plan, no shard, no snapshot, no catalog.
   */
  async function backupJobRefused(fields: object, reason: RegExp): Promise<void> {
    const job = clusterBackupJob(fields);
    const snapshots = lb.compute.snapshotNames('acme');
    await refused('exportManifests', 'backup-jobs', job, reason);
    await backupsDone.waitFor((m) => m.backupId === job.backupId, 30_000, 'the answer');
    const answers = backupsDone.messages.filter((m) => m.backupId === job.backupId);
    assert.deepEqual(
      answers.map((m) => m.phase),
      ['Failed'],
      `answered once, Failed: ${JSON.stringify(answers)}`,
    );
    assert.match(String(answers[0]?.errors), reason);
    const cluster = job['cluster'] as typeof SOURCE;
    assert.equal(await lb.store.exists(Layout.plan(cluster, job.backupId)), false, 'no plan');
    assert.equal(await lb.store.exists(Layout.catalog(cluster, job.backupId)), false, 'no catalog');
    assert.equal(
      shards.count((m) => m.backupId === job.backupId),
      0,
      'no shard published',
    );
    assert.deepEqual(lb.compute.snapshotNames('acme'), snapshots, 'no snapshot taken');
  }

  it('backs up the source under the deployed policy (the control)', async () => {
    await lb.bus.publish(lb.pipeline.topic('schedule'), {
      apiVersion: API_VERSION,
      kind: 'ScheduleTick',
      scheduledTime,
      policy: deployedPolicy,
    });
    const done = await backupsDone.waitFor((m) => m.backupId === backupId, 120_000, backupId);
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    const { records } = await loadBackup(lb.store, SOURCE, backupId);
    const copied = records
      .filter((r) => r.ref.kind === 'ConfigMap' && r.ref.name === 'settings')
      .map((r) => r.ref.namespace);
    assert.deepEqual(copied.sort(), [nsA, nsB].sort(), "the policy's namespaces, no other");
    const plan = await readPlan(lb.store, SOURCE, backupId);
    assert.ok(!plan.volumes.includes(outsidePv), `plan volumes: ${plan.volumes.join(', ')}`);
  });

  it('refuses a RestoreRequest into a cluster outside its plan', async () => {
    await restoreRefused(
      { target: SOURCE },
      /restore plan \S+ does not restore into local\/local\/source; refused/,
    );
    assert.equal(await get(kubeHttp('source'), R.namespaces, undefined, `${nsA}-copy`), undefined);
  });

  it('refuses a RestoreRequest naming a plan that is not deployed', async () => {
    // The plan a standby cluster would imply: this policy has none, so neither is the plan.
    await restoreRefused(
      { plan: `standby:${policyName}` },
      new RegExp(`no restore plan named standby:${policyName} is deployed`),
    );
    assert.equal(await get(kubeHttp('target'), R.namespaces, undefined, `${nsA}-copy`), undefined);
  });

  it('refuses a RestoreRequest for a backup of a cluster its plan does not cover', async () => {
    await restoreRefused(
      { backup: { backupId: targetBackupId, cluster: TARGET } },
      /restore plan \S+ does not cover backups of local\/local\/target; refused/,
    );
    await restoreRefused(
      { backup: { latestOf: TARGET } },
      /restore plan \S+ does not cover backups of local\/local\/target; refused/,
    );
    assert.equal(await get(kubeHttp('target'), R.namespaces, undefined, `${nsT}-copy`), undefined);
  });

  it('refuses, as malformed, a RestoreRequest still carrying its own options', async () => {
    const request = restoreRequest({
      options: {
        includeNamespaces: [nsA],
        transformations: [
          { patch: [{ op: 'add', path: '/metadata/labels/owned-by', value: 'attacker' }] },
        ],
      },
    });
    await refused(
      'restore',
      'restore',
      request,
      /unknown property "options"/,
      'rejected a malformed message',
    );
    assert.equal(
      restored.count((m) => m.restoreId === request.restoreId),
      0,
    );
    assert.equal(await get(kubeHttp('target'), R.namespaces, undefined, `${nsA}-copy`), undefined);
  });

  it('refuses a ClusterBackupJob whose policy keeps its own keepLast', async () => {
    await backupJobRefused(
      { policy: { ...deployedPolicy, keepLast: 1 } },
      new RegExp(`policy ${policyName} differs from the deployed one in keepLast; refused`),
    );
  });

  it('refuses a ClusterBackupJob whose policy adds a standby cluster', async () => {
    await backupJobRefused(
      { policy: { ...deployedPolicy, standbyCluster: TARGET } },
      new RegExp(`policy ${policyName} differs from the deployed one in standbyCluster; refused`),
    );
  });

  it('refuses a ClusterBackupJob for a cluster its policy does not select', async () => {
    await backupJobRefused(
      { cluster: TARGET },
      new RegExp(`policy ${policyName} does not select cluster local/local/target; refused`),
    );
  });

  it('refuses a ScheduleTick naming a policy that is not deployed', async () => {
    const rogue = unique('rogue');
    await refused(
      'enumerateClusters',
      'schedule',
      {
        apiVersion: API_VERSION,
        kind: 'ScheduleTick',
        scheduledTime,
        policy: { ...deployedPolicy, name: rogue },
      },
      new RegExp(`no backup policy named ${rogue} is deployed`),
    );
    assert.equal(
      jobs.count((m) => m.policy?.name === rogue),
      0,
      'no backup job published',
    );
  });

  it('refuses a ScheduleTick widening a deployed policy', async () => {
    const jobsBefore = jobs.messages.length;
    await refused(
      'enumerateClusters',
      'schedule',
      {
        apiVersion: API_VERSION,
        kind: 'ScheduleTick',
        scheduledTime: '2026-11-27T04:00:00Z',
        policy: { ...deployedPolicy, clusterNames: ['*'], filters: {} },
      },
      new RegExp(`policy ${policyName} differs from the deployed one in clusterNames, filters`),
    );
    assert.equal(jobs.messages.length, jobsBefore, 'no backup job published');
  });

  it('refuses a VolumeSnapshotJob for a PV its backup plan lacks', async () => {
    const snapshots = lb.compute.snapshotNames('acme');
    await refused(
      'snapshotDisks',
      'disk-snapshots',
      {
        apiVersion: API_VERSION,
        kind: 'VolumeSnapshotJob',
        backupId,
        cluster: SOURCE,
        policy: deployedPolicy,
        pvName: outsidePv,
      },
      new RegExp(`the plan has no volume ${outsidePv}; refused`),
    );
    assert.deepEqual(lb.compute.snapshotNames('acme'), snapshots, 'no snapshot taken');
  });

  it('a dry run asked by narrow writes nothing to the target', async () => {
    const before = await namespacesOf('target');
    const request = restoreRequest({ narrow: { dryRun: true } });
    await lb.bus.publish(lb.pipeline.topic('restore'), request);
    const done = await restored.waitFor((m) => m.restoreId === request.restoreId, 120_000);
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    assert.ok((done.counts?.['would-restore'] ?? 0) >= 2, JSON.stringify(done.counts));
    assert.equal(done.counts?.['restored'] ?? 0, 0, JSON.stringify(done.counts));
    assert.deepEqual(await namespacesOf('target'), before, 'no namespace created');
    assert.equal((await list(kubeHttp('target'), R.configmaps, `${nsA}-copy`)).length, 0);
  });

  it('a request narrowed to one namespace restores only that one', async () => {
    const request = restoreRequest({ narrow: { includeNamespaces: [nsA] } });
    await lb.bus.publish(lb.pipeline.topic('restore'), request);
    const done = await restored.waitFor((m) => m.restoreId === request.restoreId, 120_000);
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    const target = kubeHttp('target');
    const copied = await get(target, R.configmaps, `${nsA}-copy`, 'settings');
    assert.deepEqual(copied?.['data'], { from: nsA });
    assert.equal(await get(target, R.namespaces, undefined, `${nsB}-copy`), undefined);
    const report = JSON.parse(
      (await lb.store.get(Layout.report(request.restoreId))).toString('utf8'),
    ) as RestoreReport;
    const ofB = report.outcomes.filter((o) => o.namespace === nsB || o.name === nsB);
    assert.ok(ofB.length > 0, 'the report names the narrowed-out objects');
    for (const o of ofB) {
      assert.equal(o.outcome, 'skipped', JSON.stringify(o));
      assert.match(String(o.reason), /not selected for this restore/);
    }
  });
});
