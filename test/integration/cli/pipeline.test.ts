import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import type { BackupCompleted, RestoreCompleted } from '../../../shared/messages/index.js';
import { scheduledBackupId } from '../../../shared/pipeline/backup-ids.js';
import type { RestoreReport } from '../../../shared/restore/report.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { seedWorkload } from '../../../local/sample-workload.js';
import { errorLines, explain, runCli } from '../../unit/cli/run-cli.js';
import { jsonOf, tempDir } from './cli-env.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const TARGET = { project: 'local', location: 'local', name: 'target' };

describe('lifeboat --pipeline through the local pipeline on the Pub/Sub emulator', function () {
  this.timeout(300_000);
  let lb: LocalLifeboat;
  let policyFile: string;
  const backupId = unique('cli-pipe');
  const ns = unique('cli-pipe');
  // What this deployment allows, as Terraform would render it: the policy the CLI sends (it
  // also selects `nowhere`, a cluster no inventory knows), and two plans from source to target.
  const policy = {
    name: unique('clipol'),
    projects: ['local'],
    clusterNames: ['source', 'nowhere'],
    filters: { includeNamespaces: [ns] },
  };
  const copyPlan = {
    name: unique('copy'),
    sourceClusters: [SOURCE],
    targetClusters: [TARGET],
    options: { namespaceMapping: { [ns]: `${ns}-copy` }, conflictPolicy: 'skip' },
  };
  const againPlan = {
    name: unique('again'),
    sourceClusters: [{ project: 'local', name: 'sour*' }],
    targetClusters: [TARGET],
    options: { namespaceMapping: { [ns]: `${ns}-again` }, conflictPolicy: 'skip' },
  };

  before(async () => {
    lb = await startLocalLifeboat({
      deployment: { backupPolicies: [policy], restorePlans: [copyPlan, againPlan] },
    });
    const { pv } = await seedWorkload(kubeHttp('source'), ns);
    lb.compute.seedDisk({
      project: 'acme',
      zone: 'europe-west1-b',
      name: pv,
      sizeGb: 5,
      type: 'pd-balanced',
      bytes: Buffer.from(`pipeline data of ${ns}`),
    });
    policyFile = join(tempDir('policy'), 'policy.yaml');
    writeFileSync(policyFile, JSON.stringify(policy));
  });

  after(async () => {
    await lb?.stop();
  });

  const pipelineFlags = (): string[] => ['--topic-prefix', lb.topicPrefix, '--project', lb.project];

  /** The CLI's temporary subscriptions left behind in the project (there should be none). */
  async function leftoverSubscriptions(): Promise<string[]> {
    const pubsub = new PubSub({ projectId: lb.project });
    try {
      const [subscriptions] = await pubsub.getSubscriptions();
      return subscriptions.map((s) => s.name).filter((n) => n.includes(`/${lb.topicPrefix}cli-`));
    } finally {
      await pubsub.close();
    }
  }

  it('backup create --pipeline publishes the job and follows it to a Completed catalog', async () => {
    const r = await runCli([
      'backup',
      'create',
      backupId,
      '--pipeline',
      '--cluster',
      'local/local/source',
      '--policy',
      policyFile,
      ...pipelineFlags(),
      '-o',
      'json',
    ]);
    const done = jsonOf<BackupCompleted>(r);
    assert.equal(done.kind, 'BackupCompleted');
    assert.equal(done.backupId, backupId);
    assert.equal(done.phase, 'Completed', JSON.stringify(done.errors));
    assert.equal(done.catalogKey, Layout.catalog(SOURCE, backupId));
    const catalog = await readCatalog(lb.store, SOURCE, backupId);
    assert.equal(catalog.phase, 'Completed');
    assert.equal(catalog.volumes[0]?.status, 'READY', 'the pipeline snapshotted the disk');
    assert.deepEqual(await leftoverSubscriptions(), [], 'the temporary subscription is deleted');
  });

  it('restore create --pipeline --plan restores into the target as the plan says, and prints the report', async () => {
    const copy = `${ns}-copy`;
    const restoreId = unique('cli-pipe-restore');
    const report = jsonOf<RestoreReport>(
      await runCli([
        'restore',
        'create',
        restoreId,
        '--pipeline',
        '--from-backup',
        backupId,
        '--target-cluster',
        'local/local/target',
        '--store',
        lb.storeUrl,
        '--plan',
        copyPlan.name,
        ...pipelineFlags(),
        '-o',
        'json',
      ]),
    );
    assert.equal(report.restoreId, restoreId);
    assert.equal(report.source.name, 'source', 'the source cluster was found from the store');
    assert.equal(report.phase, 'Completed', JSON.stringify(report.errors));
    assert.deepEqual(report.target, TARGET);
    const target = kubeHttp('target');
    assert.equal((await list(target, R.widgets, copy)).length, 2);
    const pvc = await get(target, R.pvcs, copy, 'uploads');
    assert.ok((pvc?.['spec'] as { volumeName?: string }).volumeName, 'the claim is bound');
    assert.deepEqual(await leftoverSubscriptions(), []);
  });

  it('restore create --pipeline with an explicit source cluster and no store, narrowing the plan', async () => {
    const r = await runCli([
      'restore',
      'create',
      '--pipeline',
      '--from-backup',
      backupId,
      '--source-cluster',
      'local/local/source',
      '--target-cluster',
      'local/local/target',
      '--plan',
      againPlan.name,
      '--include-resources',
      'configmaps,namespaces',
      ...pipelineFlags(),
    ]);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /Phase:\s+Completed/);
    const target = kubeHttp('target');
    assert.ok(await get(target, R.configmaps, `${ns}-again`, 'settings'));
    assert.deepEqual(await list(target, R.widgets, `${ns}-again`), [], 'only what was asked for');
  });

  it('restore create --pipeline --plan into a cluster outside the plan is answered Failed, exit 1', async () => {
    const restoreId = unique('cli-pipe-outside');
    const started = Date.now();
    const r = await runCli([
      'restore',
      'create',
      restoreId,
      '--pipeline',
      '--from-backup',
      backupId,
      '--store',
      lb.storeUrl,
      // The copy plan restores into target only: not back into the source.
      '--target-cluster',
      'local/local/source',
      '--plan',
      copyPlan.name,
      '--timeout',
      '90s',
      ...pipelineFlags(),
      '-o',
      'json',
    ]);
    const done = jsonOf<RestoreCompleted>(r, 1);
    assert.ok(Date.now() - started < 60_000, 'answered, not left to time out');
    assert.equal(done.kind, 'RestoreCompleted');
    assert.equal(done.restoreId, restoreId);
    assert.equal(done.phase, 'Failed');
    assert.deepEqual(done.target, SOURCE);
    assert.deepEqual(done.errors, [
      `RestoreRequest: restore plan ${copyPlan.name} does not restore into local/local/source; refused`,
    ]);
    assert.equal(await lb.store.exists(Layout.report(restoreId)), false, 'nothing was restored');
    assert.equal(await get(kubeHttp('source'), R.namespaces, undefined, `${ns}-copy`), undefined);
    assert.deepEqual(await leftoverSubscriptions(), []);
  });

  it('restore create --pipeline --plan of a plan that is not deployed says so in one table, exit 1', async () => {
    const r = await runCli([
      'restore',
      'create',
      '--pipeline',
      '--from-backup',
      backupId,
      '--source-cluster',
      'local/local/source',
      '--target-cluster',
      'local/local/target',
      '--plan',
      'everything',
      '--timeout',
      '90s',
      ...pipelineFlags(),
    ]);
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stdout, /Phase:\s+Failed/);
    assert.match(
      r.stdout,
      new RegExp(
        `no restore plan named everything is deployed \\(deployed: .*${copyPlan.name}.*\\); refused`,
      ),
    );
  });

  it('restore create --pipeline refuses a flag the plan decides before publishing (exit 2)', async () => {
    const r = await runCli([
      'restore',
      'create',
      '--pipeline',
      '--from-backup',
      backupId,
      '--source-cluster',
      'local/local/source',
      '--target-cluster',
      'local/local/target',
      '--plan',
      copyPlan.name,
      '--namespace-mappings',
      `${ns}:elsewhere`,
      ...pipelineFlags(),
    ]);
    assert.equal(r.code, 2, explain(r));
    assert.deepEqual(errorLines(r), [
      'lifeboat: --namespace-mappings: with --pipeline the restore plan decides this; a request may only narrow it (--include/--exclude-namespaces, --include/--exclude-resources, --dry-run)',
    ]);
  });

  it('schedule run --pipeline publishes a tick whose backup then appears', async () => {
    const out = jsonOf<{ messageId: string; policy: string; scheduledTime: string; topic: string }>(
      await runCli([
        'schedule',
        'run',
        '--pipeline',
        '--policy',
        policyFile,
        ...pipelineFlags(),
        '-o',
        'json',
      ]),
    );
    assert.match(out.messageId, /^\d+$/);
    assert.equal(out.topic, `${lb.topicPrefix}schedule`);
    const id = scheduledBackupId(out.policy, out.scheduledTime);
    const deadline = Date.now() + 120_000;
    while (!(await lb.store.exists(Layout.catalog(SOURCE, id)))) {
      assert.ok(Date.now() < deadline, `no catalog for scheduled backup ${id}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal((await readCatalog(lb.store, SOURCE, id)).phase, 'Completed');
  });

  it('--pipeline with topics that do not exist is a configuration error (exit 2)', async () => {
    const r = await runCli([
      'backup',
      'create',
      unique('cli-none'),
      '--pipeline',
      '--cluster',
      'local/local/source',
      '--policy',
      policyFile,
      '--topic-prefix',
      'not-deployed-',
      '--project',
      lb.project,
    ]);
    assert.equal(r.code, 2, explain(r));
    assert.match(
      errorLines(r)[0] ?? '',
      /cannot subscribe to topic not-deployed-backup-completed in project .*: is Lifeboat deployed there with --topic-prefix not-deployed-\?$/,
    );
  });

  it('schedule run --pipeline to a topic that does not exist exits 2', async () => {
    const r = await runCli([
      'schedule',
      'run',
      '--pipeline',
      '--policy',
      policyFile,
      '--topic-prefix',
      'not-deployed-',
      '--project',
      lb.project,
    ]);
    assert.equal(r.code, 2, explain(r));
    assert.match(
      errorLines(r)[0] ?? '',
      /cannot publish to topic not-deployed-schedule .*NOT_FOUND/,
    );
    assert.doesNotMatch(r.stderr, /MetadataLookupWarning/);
  });

  it('--pipeline gives up after --timeout with exit 1 and deletes its subscription', async () => {
    // With the planning function down, nothing answers within the timeout.
    await lb.pipeline.kill('exportManifests');
    const r = await runCli([
      'backup',
      'create',
      unique('cli-late'),
      '--pipeline',
      '--cluster',
      'local/local/nowhere',
      '--policy',
      policyFile,
      '--timeout',
      '3s',
      ...pipelineFlags(),
    ]);
    assert.equal(r.code, 1, explain(r));
    assert.match(errorLines(r)[0] ?? '', /no BackupCompleted of backup cli-late-\w+ within 3s/);
    assert.deepEqual(await leftoverSubscriptions(), []);
    await lb.pipeline.startFunction('exportManifests');
  });

  it('backup create --pipeline with a policy other than the deployed one takes no backup, exit 1', async () => {
    const other = join(tempDir('policy'), 'other.yaml');
    writeFileSync(other, JSON.stringify({ ...policy, ttlDays: 400 }));
    const id = unique('cli-other');
    const r = await runCli([
      'backup',
      'create',
      id,
      '--pipeline',
      '--cluster',
      'local/local/source',
      '--policy',
      other,
      '--timeout',
      '20s',
      ...pipelineFlags(),
    ]);
    assert.equal(r.code, 1, explain(r));
    // The function refuses the job (a permanent error, acknowledged); whether it also answers
    // with a Failed BackupCompleted or leaves the CLI to its --timeout, no backup is taken.
    assert.match(
      r.stdout + r.stderr,
      new RegExp(
        `differs from the deployed one in ttlDays|no BackupCompleted of backup ${id} within 20s`,
      ),
    );
    assert.equal(await lb.store.exists(Layout.plan(SOURCE, id)), false, 'nothing was planned');
    assert.equal(await lb.store.exists(Layout.catalog(SOURCE, id)), false);
    assert.deepEqual(await leftoverSubscriptions(), []);
  });

  it('--pipeline reports a backup of an unknown cluster as Failed with the reason, exit 1', async () => {
    const r = await runCli([
      'backup',
      'create',
      unique('cli-nowhere'),
      '--pipeline',
      '--cluster',
      'local/local/nowhere',
      '--policy',
      policyFile,
      '--timeout',
      '60s',
      ...pipelineFlags(),
    ]);
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stdout + r.stderr, /Failed/);
    assert.match(r.stdout + r.stderr, /nowhere/);
  });
});
