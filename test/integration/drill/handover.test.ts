import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Layout } from '../../../shared/catalog/layout.js';
import { drillRestoreId } from '../../../shared/drill/drill-names.js';
import type { DrillCompleted, DrillJob, DrillReport } from '../../../shared/messages/drill.js';
import { readDrillReport } from '../../../shared/drill/drill-store.js';
import { Inbox } from '../../../local/inbox.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { create, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { explain, runCli } from '../../unit/cli/run-cli.js';
import { jsonOf, kubeconfigs, tempDir } from '../cli/cli-env.js';

const TARGET = { project: 'local', location: 'local', name: 'target' };

/**
 * A drill longer than one function invocation, through the pipeline: with a
 * work budget spent as soon as each invocation starts, every invocation
 * restores one wave and hands the drill over to the next (the same job, its
 * request time fixed), until the restore ends; the last invocation
 * verifies, cleans up and reports, with the RTO counted from the request.
 */
describe('a drill handed over across function invocations', function () {
  this.timeout(240_000);
  let lb: LocalLifeboat;
  let jobs: Inbox<DrillJob>;
  let completed: Inbox<DrillCompleted>;
  let policyFile: string;
  let backupId: string;
  const ns = unique('long-drill');
  const drillPolicy = {
    name: unique('ldrill'),
    projects: ['local'],
    clusterNames: ['source'],
    drillCluster: TARGET,
    namespaces: [ns],
    timeoutSeconds: 180,
  };

  before(async () => {
    lb = await startLocalLifeboat({
      functions: ['drill'],
      workBudgetMs: 1,
      deployment: { drillPolicies: [drillPolicy] },
    });
    jobs = await Inbox.open<DrillJob>(
      lb.bus,
      lb.pipeline.topic('drill'),
      `${lb.topicPrefix}t-drill-jobs`,
    );
    completed = await Inbox.open<DrillCompleted>(
      lb.bus,
      lb.pipeline.topic('drill-completed'),
      `${lb.topicPrefix}t-drill-completed`,
    );
    policyFile = join(tempDir('drill-handover'), 'policy.yaml');
    writeFileSync(policyFile, stringify(drillPolicy));
    // Three restore waves: the namespace, its ServiceAccount, then the ConfigMaps.
    const source = kubeHttp('source');
    await create(source, R.namespaces, { metadata: { name: ns } });
    await create(source, R.serviceaccounts, { metadata: { name: 'app', namespace: ns } });
    for (const name of ['settings', 'flags']) {
      await create(source, R.configmaps, { metadata: { name, namespace: ns }, data: { name } });
    }
    backupId = unique('long-drilled');
    const r = await runCli([
      ...['backup', 'create', backupId, '--kubeconfig', kubeconfigs.both(), '--context', 'source'],
      ...['--store', lb.storeUrl, '--key-file', lb.keyFile, '--include-namespaces', ns],
    ]);
    assert.equal(r.code, 0, explain(r));
  });

  after(async () => {
    await Promise.all([jobs?.close(), completed?.close()]);
    await lb?.stop();
  });

  let drilled: { id: string; report: DrillReport; job: DrillJob } | undefined;

  it('restores over several invocations, then verifies, cleans up and passes', async () => {
    const id = unique('h').replace('-', '');
    const report = jsonOf<DrillReport>(
      await runCli([
        ...['drill', 'run', '--pipeline', '--policy', policyFile, '--id', id],
        ...['--cluster', 'local/local/source', '--store', lb.storeUrl, '--timeout', '3m'],
        ...['--topic-prefix', lb.topicPrefix, '--project', lb.project, '-o', 'json'],
      ]),
    );
    assert.equal(report.verdict, 'passed', JSON.stringify(report.reasons));
    assert.equal(report.backupId, backupId);
    assert.equal(report.restorePhase, 'Completed');
    assert.ok(report.objects.compared >= 4, `${report.objects.compared} objects compared`);
    const handed = jobs.messages.filter((j) => j.drillId === id);
    assert.ok(handed.length >= 3, `the drill ran in ${handed.length} invocation(s), not 3 or more`);
    const requestedAt = new Set(handed.slice(1).map((j) => j.requestedAt));
    assert.deepEqual(
      [...requestedAt],
      [report.requestedAt],
      'each hand-over keeps the request time',
    );
    assert.ok((report.rtoSeconds ?? -1) > 0, 'an RTO was measured');
    const left = (await list(kubeHttp('target'), R.namespaces))
      .map((n) => n.metadata.name)
      .filter((n) => n.startsWith(`drill-${id}-`));
    assert.deepEqual(left, [], 'the drill cleaned up');
    const restoreId = drillRestoreId(id);
    assert.equal(await lb.store.exists(Layout.restoreProgress(restoreId)), false);
    assert.equal(await lb.store.exists(Layout.lease(report.source, backupId, restoreId)), false);
    drilled = { id, report, job: handed.at(-1)! };
  });

  it('a job of a drill that has ended, delivered again, announces its verdict again and drills nothing', async () => {
    assert.ok(drilled, 'the drill above ran');
    const { id, report, job } = drilled;
    const before = completed.count((m) => m.drillId === id);
    const jobsBefore = jobs.count((j) => j.drillId === id);
    await lb.bus.publish(lb.pipeline.topic('drill'), job);
    await completed.waitFor(
      (m) => m.drillId === id && completed.count((n) => n.drillId === id) > before,
      120_000,
      'DrillCompleted announced again',
    );
    const again = completed.messages.filter((m) => m.drillId === id).at(-1)!;
    assert.equal(again.verdict, report.verdict);
    assert.equal(again.rtoSeconds, report.rtoSeconds, 'the same RTO: the drill was not run again');
    assert.deepEqual(await readDrillReport(lb.store, id), report, 'the report is untouched');
    assert.equal(
      jobs.count((j) => j.drillId === id),
      jobsBefore + 1,
      'only the job published again: no hand-over, so no restore ran',
    );
    const namespaces = (await list(kubeHttp('target'), R.namespaces)).map((n) => n.metadata.name);
    assert.deepEqual(
      namespaces.filter((n) => n.startsWith(`drill-${id}-`)),
      [],
      'nothing was restored again',
    );
  });
});
