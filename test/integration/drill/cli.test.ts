import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import type { DrillReport } from '../../../shared/messages/drill.js';
import { unique } from '../../../local/settings.js';
import { create, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { explain, runCli } from '../../unit/cli/run-cli.js';
import { jsonOf, kubeconfigs, newKeyFile, tempDir } from '../cli/cli-env.js';

/**
 * `lifeboat drill run|get|describe` in-process with a file:// store, and the
 * drill column of `backup get`: a backup made by `backup create`, drilled
 * into the target context, listed and described; exit codes as for restores.
 */
describe('lifeboat drill (in-process)', function () {
  this.timeout(240_000);
  let store: string;
  let keyFile: string;
  let ns: string;
  let backupId: string;
  let dir: string;
  const id = unique('c').replace('-', '');

  const policyFile = (overrides: Record<string, unknown> = {}): string => {
    const file = join(dir, `${unique('policy')}.yaml`);
    writeFileSync(
      file,
      stringify({
        name: 'weekly',
        projects: ['local'],
        clusterNames: ['source'],
        drillCluster: { project: 'local', location: 'local', name: 'target' },
        namespaces: [ns],
        ...overrides,
      }),
    );
    return file;
  };
  const common = (): string[] => ['--store', store, '--key-file', keyFile];
  const target = (): string[] => ['--kubeconfig', kubeconfigs.both(), '--context', 'target'];

  before(async () => {
    dir = tempDir('drill-cli');
    store = pathToFileURL(join(dir, 'backups')).href;
    keyFile = newKeyFile();
    ns = unique('cli-drill');
    const source = kubeHttp('source');
    await create(source, R.namespaces, { metadata: { name: ns } });
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns },
      data: { mode: 'production' },
    });
    await create(source, R.secrets, {
      metadata: { name: 'token', namespace: ns },
      stringData: { token: 's3cret' },
    });
    backupId = unique('cli-drilled');
    const r = await runCli([
      ...['backup', 'create', backupId, '--kubeconfig', kubeconfigs.both(), '--context', 'source'],
      ...common(),
      ...['--include-namespaces', ns, '-o', 'json'],
    ]);
    assert.equal(r.code, 0, explain(r));
  });

  it('backup get shows a backup never drilled as such', async () => {
    const items = jsonOf<{ items: { name: string; drill?: string }[] }>(
      await runCli(['backup', 'get', backupId, '--store', store, '-o', 'json']),
    ).items;
    assert.equal(items[0]?.drill, 'none');
  });

  it('drill run drills the latest backup into the drill cluster and exits 0 when it passes', async () => {
    const report = jsonOf<DrillReport>(
      await runCli([
        ...['drill', 'run', '--policy', policyFile(), '--id', id],
        ...target(),
        ...common(),
        ...['-o', 'json'],
      ]),
    );
    assert.equal(report.verdict, 'passed', JSON.stringify(report.reasons));
    assert.equal(report.backupId, backupId);
    assert.ok((report.rtoSeconds ?? -1) >= 0);
    assert.ok(report.objects.compared >= 3, 'namespace, ConfigMap and Secret compared');
    const names = (await list(kubeHttp('target'), R.namespaces)).map((n) => n.metadata.name);
    assert.deepEqual(
      names.filter((n) => n.startsWith(`drill-${id}-`)),
      [],
    );
  });

  it('drill get and describe show it, and backup get shows its last drill and RTO', async () => {
    const listed = jsonOf<{ items: DrillReport[] }>(
      await runCli(['drill', 'get', '--store', store, '-o', 'json']),
    );
    const found = listed.items.find((r) => r.drillId === id);
    assert.equal(found?.verdict, 'passed');
    const table = await runCli(['drill', 'get', '--store', store]);
    assert.match(table.stdout, /^NAME\s+CLUSTER\s+BACKUP\s+DRILL CLUSTER\s+VERDICT\s+RTO/);
    assert.match(
      table.stdout,
      new RegExp(
        `\\n${id}\\s+local/local/source\\s+${backupId}\\s+local/local/target\\s+passed\\s+[\\d.]+s`,
      ),
    );
    const described = await runCli(['drill', 'describe', id, '--store', store]);
    assert.equal(described.code, 0, explain(described));
    assert.match(described.stdout, /Verdict:\s+passed/);
    assert.match(described.stdout, new RegExp(`${ns}\\s+drill-${id}-${ns}`));
    const backups = jsonOf<{ items: { name: string; drill?: string; drillRtoSeconds?: number }[] }>(
      await runCli(['backup', 'get', backupId, '--store', store, '-o', 'json']),
    ).items;
    assert.equal(backups[0]?.drill, 'passed');
    assert.equal(backups[0]?.drillRtoSeconds, found?.rtoSeconds);
    const backupTable = await runCli(['backup', 'get', backupId, '--store', store]);
    assert.match(backupTable.stdout, /COMPLETED\s+DRILL\s+RTO\n/);
    assert.match(backupTable.stdout, new RegExp(`\\n${backupId}\\s.*\\spassed\\s+[\\d.]+s\\n?$`));
  });

  it('exits 1 for a drill that fails, and backup get then shows it failed', async () => {
    const failing = unique('f').replace('-', '');
    const r = await runCli([
      ...['drill', 'run', '--policy', policyFile({ namespaces: ['no-such-namespace'] })],
      ...['--id', failing, ...target(), ...common(), '-o', 'json'],
    ]);
    const report = jsonOf<DrillReport>(r, 1);
    assert.equal(report.verdict, 'failed');
    assert.match(report.reasons.join('\n'), /nothing was proven/);
    const described = await runCli(['drill', 'describe', failing, '--store', store]);
    assert.equal(described.code, 1, explain(described));
    const backups = jsonOf<{ items: { drill?: string }[] }>(
      await runCli(['backup', 'get', backupId, '--store', store, '-o', 'json']),
    ).items;
    assert.equal(backups[0]?.drill, 'failed', 'the last drill is the one shown');
  });

  it('exits 2 when the context is not the drill cluster, and 3 for a drill that does not exist', async () => {
    const wrong = await runCli([
      ...['drill', 'run', '--policy', policyFile()],
      ...['--kubeconfig', kubeconfigs.both(), '--context', 'source', ...common()],
    ]);
    assert.equal(wrong.code, 2, explain(wrong));
    assert.match(wrong.stderr, /the policy's drill cluster is local\/local\/target/);
    const missing = await runCli(['drill', 'describe', 'nosuchdrill', '--store', store]);
    assert.equal(missing.code, 3, explain(missing));
  });

  it('exits 2 for a policy that selects clusters by label unless --cluster names one', async () => {
    const labelled = policyFile({ clusterLabels: { tier: 'prod' } });
    const refused = await runCli(['drill', 'run', '--policy', labelled, ...target(), ...common()]);
    assert.equal(refused.code, 2, explain(refused));
    assert.match(refused.stderr, /selects clusters by label .* pass --cluster/);
    const named = await runCli([
      ...['drill', 'run', '--policy', labelled, '--cluster', 'local/local/source'],
      ...target(),
      ...common(),
      ...['--id', unique('l').replace('-', ''), '-o', 'json'],
    ]);
    assert.equal(named.code, 0, explain(named));
    assert.equal(jsonOf<DrillReport>(named).verdict, 'passed');
  });
});
