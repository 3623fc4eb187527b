import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { stringify } from 'yaml';
import { readDrillReport } from '../../../shared/drill/drill-store.js';
import type { DrillCompleted, DrillReport } from '../../../shared/messages/drill.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { create, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { explain, runCli } from '../../unit/cli/run-cli.js';
import { jsonOf, kubeconfigs, tempDir } from '../cli/cli-env.js';

const TARGET = { project: 'local', location: 'local', name: 'target' };

/**
 * `lifeboat drill run --pipeline` through the local pipeline: the CLI
 * publishes a DrillJob carrying the deployed drill policy and follows the
 * drill function to its DrillCompleted; exit codes as in-process.
 */
describe('lifeboat drill run --pipeline through the local pipeline', function () {
  this.timeout(240_000);
  let lb: LocalLifeboat;
  let policyFile: string;
  let backupId: string;
  const ns = unique('pipe-drill');
  const drillPolicy = {
    name: unique('pdrill'),
    projects: ['local'],
    clusterNames: ['source'],
    drillCluster: TARGET,
    namespaces: [ns],
    timeoutSeconds: 120,
  };

  before(async () => {
    lb = await startLocalLifeboat({
      functions: ['drill'],
      deployment: { drillPolicies: [drillPolicy] },
    });
    const dir = tempDir('drill-pipe');
    policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, stringify(drillPolicy));
    const source = kubeHttp('source');
    await create(source, R.namespaces, { metadata: { name: ns } });
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns },
      data: { mode: 'production' },
    });
    // Sealed with the deployment's key, as the drill function requires of any backup it drills.
    backupId = unique('pipe-drilled');
    const r = await runCli([
      ...['backup', 'create', backupId, '--kubeconfig', kubeconfigs.both(), '--context', 'source'],
      ...['--store', lb.storeUrl, '--key-file', lb.keyFile, '--include-namespaces', ns],
    ]);
    assert.equal(r.code, 0, explain(r));
  });

  after(async () => {
    await lb?.stop();
  });

  const pipelineFlags = (): string[] => ['--topic-prefix', lb.topicPrefix, '--project', lb.project];

  async function leftoverSubscriptions(): Promise<string[]> {
    const pubsub = new PubSub({ projectId: lb.project });
    try {
      const [subscriptions] = await pubsub.getSubscriptions();
      return subscriptions.map((s) => s.name).filter((n) => n.includes(`/${lb.topicPrefix}cli-`));
    } finally {
      await pubsub.close();
    }
  }

  it('drills the latest backup through the drill function, prints the report with its RTO, exit 0', async () => {
    const id = unique('p').replace('-', '');
    const report = jsonOf<DrillReport>(
      await runCli([
        ...['drill', 'run', '--pipeline', '--policy', policyFile, '--id', id],
        ...['--cluster', 'local/local/source', '--store', lb.storeUrl, '--timeout', '3m'],
        ...pipelineFlags(),
        ...['-o', 'json'],
      ]),
    );
    assert.equal(report.drillId, id);
    assert.equal(report.backupId, backupId, 'the latest backup was drilled');
    assert.equal(report.verdict, 'passed', JSON.stringify(report.reasons));
    assert.ok((report.rtoSeconds ?? -1) > 0, 'an RTO was measured');
    assert.ok(report.objects.compared >= 2, 'the namespace and its ConfigMap were compared');
    assert.equal(
      (await readDrillReport(lb.store, id)).verdict,
      'passed',
      'written by the function',
    );
    const names = (await list(kubeHttp('target'), R.namespaces)).map((n) => n.metadata.name);
    assert.deepEqual(
      names.filter((n) => n.startsWith(`drill-${id}-`)),
      [],
      'the drill cleaned up',
    );
    assert.deepEqual(await leftoverSubscriptions(), [], 'the temporary subscription is deleted');
  });

  it('without a store prints the verdict and RTO from DrillCompleted', async () => {
    const id = unique('q').replace('-', '');
    const r = await runCli([
      ...['drill', 'run', '--pipeline', '--policy', policyFile, '--id', id],
      ...['--cluster', 'local/local/source', '--timeout', '3m', ...pipelineFlags()],
    ]);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, new RegExp(`Name:\\s+${id}\\n`));
    assert.match(r.stdout, /Verdict:\s+passed/);
    assert.match(r.stdout, /RTO:\s+[\d.]+s/);
  });

  it('exits 1 with the reasons when the drill fails (a backup that does not exist)', async () => {
    const id = unique('f').replace('-', '');
    const done = jsonOf<DrillCompleted>(
      await runCli([
        ...['drill', 'run', '--pipeline', '--policy', policyFile, '--id', id],
        ...['--cluster', 'local/local/source', '--backup', 'no-such-backup'],
        ...['--timeout', '2m', ...pipelineFlags(), '-o', 'json'],
      ]),
      1,
    );
    assert.equal(done.kind, 'DrillCompleted');
    assert.equal(done.drillId, id);
    assert.equal(done.verdict, 'failed');
    assert.match(done.reasons.join('\n'), /no-such-backup/);
    assert.deepEqual(done.leftBehind, []);
  });
});
