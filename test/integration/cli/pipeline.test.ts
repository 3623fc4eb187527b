import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import type { BackupCompleted } from '../../../shared/messages/index.js';
import { scheduledBackupId } from '../../../shared/pipeline/backup-ids.js';
import type { RestoreReport } from '../../../shared/restore/report.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../env/local-lifeboat.js';
import { unique } from '../../support/environment.js';
import { get, kubeHttp, list, R } from '../../support/kube.js';
import { seedWorkload } from '../../support/workload.js';
import { errorLines, explain, runCli } from '../../unit/cli/run-cli.js';
import { jsonOf, tempDir } from './cli-env.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };

describe('lifeboat --pipeline through the local pipeline on the Pub/Sub emulator', function () {
  this.timeout(300_000);
  let lb: LocalLifeboat;
  let ns: string;
  let policyFile: string;
  const backupId = unique('cli-pipe');

  before(async () => {
    lb = await startLocalLifeboat();
    ns = unique('cli-pipe');
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
    writeFileSync(
      policyFile,
      `name: ${unique('clipol')}\nprojects: [local]\nclusterNames: [source]\nfilters:\n  includeNamespaces: [${ns}]\n`,
    );
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

  it('restore create --pipeline restores into the target and prints the report', async () => {
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
        '--namespace-mappings',
        `${ns}:${copy}`,
        ...pipelineFlags(),
        '-o',
        'json',
      ]),
    );
    assert.equal(report.restoreId, restoreId);
    assert.equal(report.source.name, 'source', 'the source cluster was found from the store');
    assert.equal(report.phase, 'Completed', JSON.stringify(report.errors));
    const target = kubeHttp('target');
    assert.equal((await list(target, R.widgets, copy)).length, 2);
    const pvc = await get(target, R.pvcs, copy, 'uploads');
    assert.ok((pvc?.['spec'] as { volumeName?: string }).volumeName, 'the claim is bound');
    assert.deepEqual(await leftoverSubscriptions(), []);
  });

  it('restore create --pipeline with an explicit source cluster and no store', async () => {
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
      '--namespace-mappings',
      `${ns}:${ns}-again`,
      '--include-resources',
      'configmaps,namespaces',
      ...pipelineFlags(),
    ]);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /Phase:\s+Completed/);
    assert.ok(await get(kubeHttp('target'), R.configmaps, `${ns}-again`, 'settings'));
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
