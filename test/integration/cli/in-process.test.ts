import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { Layout } from '../../../shared/catalog/layout.js';
import type { RestoreReport } from '../../../shared/restore/report.js';
import { unique } from '../../../local/settings.js';
import { get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { seedWorkload } from '../../../local/sample-workload.js';
import { errorLines, explain, runCli } from '../../unit/cli/run-cli.js';
import { jsonOf, kubeconfigs, newBucket, newKeyFile, tempDir } from './cli-env.js';

interface Summary {
  backupId: string;
  cluster: { name: string };
  phase: string;
  counts: { objects: number; secrets: number; volumes: number };
  catalog: string;
}

const SOURCE = { project: 'local', location: 'local', name: 'source' };

describe('lifeboat in-process against the local clusters and a gs:// store', function () {
  this.timeout(300_000);
  let storage: Storage;
  let bucket: string;
  let store: string;
  let keyFile: string;
  let ns: string;
  const backupId = unique('cli');
  const restoreId = unique('cli-restore');

  before(async () => {
    ({ storage, bucket, url: store } = await newBucket());
    keyFile = newKeyFile();
    ns = unique('cli-shop');
    await seedWorkload(kubeHttp('source'), ns);
  });

  const backupArgs = (): string[] => [
    'backup',
    'create',
    backupId,
    '--kubeconfig',
    kubeconfigs.source(),
    '--store',
    store,
    '--include-namespaces',
    ns,
    '--snapshot-volumes=false',
    '--key-file',
    keyFile,
  ];

  it('backup create writes a Completed backup and prints its summary as JSON', async () => {
    const r = await runCli([...backupArgs(), '-o', 'json']);
    const summary = jsonOf<Summary>(r);
    assert.equal(summary.backupId, backupId);
    assert.equal(summary.cluster.name, 'source');
    assert.equal(summary.phase, 'Completed');
    assert.ok(summary.counts.objects >= 20, JSON.stringify(summary.counts));
    assert.ok(summary.counts.secrets >= 4, 'the workload has four Secrets, all sealed');
    assert.equal(summary.counts.volumes, 0, 'no snapshots with --snapshot-volumes=false');
    assert.equal(summary.catalog, `${store}/${Layout.catalog(SOURCE, backupId)}`);
    assert.match(r.stderr, new RegExp(`backup ${backupId}: Completed: \\d+ objects`));
  });

  it('backup create refuses a name the cluster already has a backup under', async () => {
    const r = await runCli(backupArgs());
    assert.equal(r.code, 2, explain(r));
    assert.match(errorLines(r)[0] ?? '', /already exists in gs:\/\/.*: choose another name$/);
  });

  it('backup get lists it with its phase and object count', async () => {
    const items = jsonOf<{
      items: { name: string; cluster: string; phase: string; objects: number }[];
    }>(await runCli(['backup', 'get', '--store', store, '-o', 'json'])).items;
    const row = items.find((i) => i.name === backupId);
    assert.equal(row?.cluster, 'local/local/source');
    assert.equal(row?.phase, 'Completed');
    assert.ok((row?.objects ?? 0) >= 20);
    const table = await runCli(['backup', 'get', '--store', store]);
    assert.equal(table.code, 0, explain(table));
    assert.match(table.stdout, /^NAME\s+CLUSTER\s+PHASE\s+OBJECTS/);
    assert.match(
      table.stdout,
      new RegExp(`\\n${backupId}\\s+local/local/source\\s+Completed\\s+\\d+`),
    );
  });

  it('backup describe shows the catalog, and with --details every object', async () => {
    const r = await runCli(['backup', 'describe', backupId, '--store', store, '--details']);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /Phase:\s+Completed/);
    assert.match(r.stdout, /Kubernetes version:\s+v1\.33\./);
    assert.match(r.stdout, /widgets\.example\.lifeboat\.dev\s+Widget\s+v1\s+2/);
    assert.match(r.stdout, new RegExp(`Widget\\s+${ns}\\s+blue-widget\\s+plain`));
    assert.match(r.stdout, new RegExp(`Secret\\s+${ns}\\s+opaque\\s+sealed`));
    const json = jsonOf<{ backupId: string; objects: { kind: string; sealed: boolean }[] }>(
      await runCli(['backup', 'describe', backupId, '--store', store, '--details', '-o', 'json']),
    );
    assert.equal(json.backupId, backupId);
    assert.ok(json.objects.filter((o) => o.kind === 'Secret').every((o) => o.sealed));
  });

  it('backup describe of an unknown backup exits 3', async () => {
    const r = await runCli(['backup', 'describe', 'no-such-backup', '--store', store]);
    assert.equal(r.code, 3, explain(r));
    assert.deepEqual(errorLines(r), [`lifeboat: backup "no-such-backup" not found in ${store}`]);
  });

  it('backup logs shows the plan and every shard as done', async () => {
    const r = await runCli(['backup', 'logs', backupId, '--store', store]);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /Shards:\s+\d+ \(\d+ ok, 0 failed, 0 pending\)/);
    assert.match(r.stdout, /\n\s+configmaps\s+ok\s+1\s+\d+/);
    const json = jsonOf<{ shards: { status: string }[]; catalogWritten: boolean }>(
      await runCli(['backup', 'logs', backupId, '--store', store, '-o', 'json']),
    );
    assert.ok(json.shards.length > 10);
    assert.ok(json.shards.every((s) => s.status === 'ok'));
    assert.equal(json.catalogWritten, true);
  });

  it('catalog verify with the key checks every digest and opens every sealed Secret', async () => {
    const json = jsonOf<{ verified: boolean; secrets: { sealed: number; opened: number } }>(
      await runCli([
        'catalog',
        'verify',
        backupId,
        '--store',
        store,
        '--key-file',
        keyFile,
        '-o',
        'json',
      ]),
    );
    assert.equal(json.verified, true);
    assert.ok(json.secrets.sealed >= 4);
    assert.equal(json.secrets.opened, json.secrets.sealed);
  });

  it('catalog verify with another key file is a usage error naming both keys', async () => {
    const r = await runCli([
      'catalog',
      'verify',
      backupId,
      '--store',
      store,
      '--key-file',
      newKeyFile(),
    ]);
    assert.equal(r.code, 2, explain(r));
    assert.match(errorLines(r)[0] ?? '', /is not the key this backup's Secrets were sealed with/);
  });

  it('catalog export writes YAML files for kubectl, Secrets opened with the key', async () => {
    const dir = join(tempDir('export'), 'out');
    const r = await runCli([
      'catalog',
      'export',
      backupId,
      '--store',
      store,
      '--dir',
      dir,
      '--key-file',
      keyFile,
    ]);
    assert.equal(r.code, 0, explain(r));
    const files = readdirSync(dir);
    assert.ok(files.includes('00-crds.yaml'), files.join(', '));
    const all = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    assert.match(all, /name: blue-widget/);
    assert.match(all, /kind: Secret/);
    for (const f of files) assert.match(r.stdout, new RegExp(`\\n  ${f}`));
    const without = jsonOf<{ skipped: { name: string; reason: string }[] }>(
      await runCli([
        'catalog',
        'export',
        backupId,
        '--store',
        store,
        '--dir',
        join(dir, '..', 'nokey'),
        '-o',
        'json',
      ]),
    );
    assert.ok(
      without.skipped.some((s) => s.name === `Secret ${ns}/opaque` && /encrypted/.test(s.reason)),
    );
  });

  it('restore create --dry-run reports what would be restored and creates nothing', async () => {
    const dry = `${ns}-dry`;
    const target = kubeHttp('target');
    const report = jsonOf<RestoreReport>(
      await runCli([
        'restore',
        'create',
        '--from-backup',
        backupId,
        '--kubeconfig',
        kubeconfigs.target(),
        '--store',
        store,
        '--key-file',
        keyFile,
        '--namespace-mappings',
        `${ns}:${dry}`,
        '--dry-run',
        '-o',
        'json',
      ]),
    );
    assert.equal(report.dryRun, true);
    assert.equal(report.phase, 'Completed', JSON.stringify(report.errors));
    assert.match(report.restoreId, new RegExp(`^${backupId}-\\d{14}$`), 'named after the backup');
    assert.ok(report.counts['would-restore'] > 10);
    assert.equal(report.counts.restored, 0);
    assert.equal(await get(target, R.namespaces, undefined, dry), undefined);
    assert.equal((await list(target, R.configmaps, dry)).length, 0);
    assert.ok(report.outcomes.every((o) => o.outcome !== 'restored' && o.outcome !== 'replaced'));
  });

  it('restore create maps the namespace and restores every object into the target', async () => {
    const copy = `${ns}-copy`;
    const r = await runCli([
      'restore',
      'create',
      restoreId,
      '--from-backup',
      backupId,
      '--kubeconfig',
      kubeconfigs.target(),
      '--store',
      store,
      '--key-file',
      keyFile,
      '--namespace-mappings',
      `${ns}:${copy}`,
      '-o',
      'json',
    ]);
    const report = jsonOf<RestoreReport>(r);
    assert.equal(report.restoreId, restoreId);
    assert.equal(
      report.phase,
      'Completed',
      JSON.stringify(report.outcomes.filter((o) => o.outcome === 'failed')),
    );
    assert.ok(report.counts.restored > 10);
    const target = kubeHttp('target');
    assert.equal((await list(target, R.widgets, copy)).length, 2);
    const secret = await get(target, R.secrets, copy, 'opaque');
    const data = (secret?.['data'] ?? {}) as Record<string, string>;
    assert.equal(Buffer.from(data['password'] ?? '', 'base64').toString(), 's3cr3t-value');
    assert.ok(await get(target, R.configmaps, copy, 'settings'));
  });

  it('restore create exits 1 when objects fail: --conflict-policy fail onto the restored copy', async () => {
    const report = jsonOf<RestoreReport>(
      await runCli([
        ...['restore', 'create', '--from-backup', backupId, '--kubeconfig', kubeconfigs.target()],
        ...['--store', store, '--key-file', keyFile, '--conflict-policy', 'fail'],
        ...['--namespace-mappings', `${ns}:${ns}-copy`, '-o', 'json'],
      ]),
      1,
    );
    assert.notEqual(report.phase, 'Completed');
    // Objects identical to what is there are skipped; the others conflict and fail.
    const failed = report.outcomes.filter((o) => o.outcome === 'failed');
    assert.ok(
      failed.length > 0 && report.counts.failed === failed.length,
      JSON.stringify(report.counts),
    );
    const table = await runCli(['restore', 'describe', report.restoreId, '--store', store]);
    assert.equal(table.code, 0, explain(table));
    const first = failed[0]!;
    assert.match(
      table.stdout,
      new RegExp(
        `Objects needing attention:[\\s\\S]*${first.resource.replace(/\./g, '\\.')}\\s+${first.namespace ?? '-'}\\s+${first.name}\\s+failed`,
      ),
    );
  });

  it('restore create refuses a restore name already used', async () => {
    const r = await runCli([
      'restore',
      'create',
      restoreId,
      '--from-backup',
      backupId,
      '--kubeconfig',
      kubeconfigs.target(),
      '--store',
      store,
      '--key-file',
      keyFile,
    ]);
    assert.equal(r.code, 2, explain(r));
    assert.match(errorLines(r)[0] ?? '', new RegExp(`restore "${restoreId}" already exists`));
  });

  it('restore create of an unknown backup exits 3', async () => {
    const r = await runCli([
      'restore',
      'create',
      '--from-backup',
      'no-such-backup',
      '--kubeconfig',
      kubeconfigs.target(),
      '--store',
      store,
    ]);
    assert.equal(r.code, 3, explain(r));
  });

  it('restore get and restore describe read the reports', async () => {
    const items = jsonOf<{ items: { name: string; phase: string; dryRun?: boolean }[] }>(
      await runCli(['restore', 'get', '--store', store, '-o', 'json']),
    ).items;
    assert.equal(items.find((i) => i.name === restoreId)?.phase, 'Completed');
    assert.ok(
      items.some((i) => i.dryRun === true),
      'the dry run is listed too',
    );
    const report = jsonOf<RestoreReport>(
      await runCli(['restore', 'describe', restoreId, '--store', store, '-o', 'json']),
    );
    assert.equal(report.backupId, backupId);
    assert.equal(report.target.name, 'target');
    const table = await runCli(['restore', 'describe', restoreId, '--store', store, '--details']);
    assert.equal(table.code, 0, explain(table));
    assert.match(
      table.stdout,
      new RegExp(`widgets\\.example\\.lifeboat\\.dev\\s+${ns}-copy\\s+blue-widget\\s+restored`),
    );
    const unknown = await runCli(['restore', 'describe', 'no-such-restore', '--store', store]);
    assert.equal(unknown.code, 3, explain(unknown));
  });

  it('a tampered catalog fails catalog verify (exit 1) and is shown Invalid by backup get', async () => {
    const file = storage.bucket(bucket).file(`lifeboat/${Layout.catalog(SOURCE, backupId)}`);
    const [body] = await file.download();
    const text = body.toString('utf8');
    const tampered = text.replace(
      /"kubernetesVersion": "v1\.33\.(\d+)"/,
      (_, n: string) => `"kubernetesVersion": "v1.33.${Number(n) + 1}"`,
    );
    assert.notEqual(tampered, text, 'one byte of the catalog changed');
    await file.save(tampered);
    const r = await runCli([
      'catalog',
      'verify',
      backupId,
      '--store',
      store,
      '--key-file',
      keyFile,
    ]);
    assert.equal(r.code, 1, explain(r));
    assert.match(
      errorLines(r)[0] ?? '',
      /failed verification: Catalog .* does not match its digest/,
    );
    assert.equal(r.stdout, '');
    const json = jsonOf<{ verified: boolean; reason: string }>(
      await runCli(['catalog', 'verify', backupId, '--store', store, '-o', 'json']),
      1,
    );
    assert.equal(json.verified, false);
    assert.match(json.reason, /does not match its digest/);
    const listed = await runCli(['backup', 'get', backupId, '--store', store, '-o', 'json']);
    assert.equal(jsonOf<{ items: { phase: string }[] }>(listed, 1).items[0]?.phase, 'Invalid');
    const restore = await runCli([
      'restore',
      'create',
      '--from-backup',
      backupId,
      '--kubeconfig',
      kubeconfigs.target(),
      '--store',
      store,
      '--key-file',
      keyFile,
    ]);
    assert.equal(restore.code, 1, explain(restore));
    assert.match(errorLines(restore)[0] ?? '', /does not match its digest/);
  });
});
