import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import type { RestoreReport } from '../../../shared/restore/report.js';
import { ComputeStandin } from '../../../local/standins/compute/server.js';
import { unique } from '../../../local/settings.js';
import { get, kubeHttp, R } from '../../../local/kube-requests.js';
import { seedWorkload } from '../../../local/sample-workload.js';
import { explain, runCli } from '../../unit/cli/run-cli.js';
import { jsonOf, kubeconfigs, newKeyFile, tempDir } from './cli-env.js';

interface ScheduleOutput {
  policy: string;
  backupId: string;
  results: { cluster: { name: string }; backupId: string; phase: string; objects: number }[];
  skipped: unknown[];
}

describe('lifeboat in-process with a file:// store', function () {
  this.timeout(300_000);
  let store: string;
  let ns: string;
  let pv: string;
  let keyFile: string;

  before(async () => {
    store = pathToFileURL(join(tempDir('cli-store'), 'backups')).href;
    keyFile = newKeyFile();
    ns = unique('cli-files');
    ({ pv } = await seedWorkload(kubeHttp('source'), ns));
  });

  it('schedule run backs up each context the policy file selects', async () => {
    const name = unique('clisched');
    const policyFile = join(tempDir('policy'), 'policy.yaml');
    writeFileSync(
      policyFile,
      stringify({
        name,
        projects: ['local'],
        clusterNames: ['source'],
        snapshotVolumes: false,
        filters: { includeNamespaces: [ns], excludeResources: ['secrets'] },
      }),
    );
    const out = jsonOf<ScheduleOutput>(
      await runCli([
        'schedule',
        'run',
        '--policy',
        policyFile,
        '--kubeconfig',
        kubeconfigs.both(),
        '--store',
        store,
        '-o',
        'json',
      ]),
    );
    assert.match(out.backupId, new RegExp(`^${name}-\\d{8}-\\d{4}$`));
    assert.deepEqual(
      out.results.map((r) => [r.cluster.name, r.backupId, r.phase]),
      [['source', out.backupId, 'Completed']],
      'only the source context is selected',
    );
    assert.ok((out.results[0]?.objects ?? 0) > 10);
    const verify = await runCli(['catalog', 'verify', out.backupId, '--store', store]);
    assert.equal(verify.code, 0, explain(verify));
    assert.match(verify.stdout, /Result:\s+verified/);
    const listed = await runCli(['backup', 'get', '--store', store]);
    assert.match(listed.stdout, new RegExp(`${out.backupId}\\s+local/local/source\\s+Completed`));
  });

  it('schedule run of a policy that selects no context is a usage error', async () => {
    const policyFile = join(tempDir('policy'), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ name: 'elsewhere', projects: ['my-gcp-project'] }));
    const r = await runCli([
      'schedule',
      'run',
      '--policy',
      policyFile,
      '--kubeconfig',
      kubeconfigs.both(),
      '--store',
      store,
      '--key-file',
      keyFile,
    ]);
    assert.equal(r.code, 2, explain(r));
    assert.match(r.stderr, /policy "elsewhere" \(.*policy\.json\) selects no context/);
  });

  it('schedule run exits 1 when a selected context cannot be reached, and says why', async () => {
    const config = parse(readFileSync(kubeconfigs.both(), 'utf8')) as {
      clusters: { name: string; cluster: object }[];
      contexts: { name: string; context: { cluster: string; user: string } }[];
    };
    const user = config.contexts[0]!.context.user;
    config.clusters.push({ name: 'gone', cluster: { server: 'https://127.0.0.1:1' } });
    config.contexts.push({ name: 'gone', context: { cluster: 'gone', user } });
    const kubeconfig = join(tempDir('kubeconfig'), 'config');
    writeFileSync(kubeconfig, stringify(config));
    const policyFile = join(tempDir('policy'), 'policy.yaml');
    writeFileSync(
      policyFile,
      stringify({
        name: unique('cligone'),
        projects: ['local'],
        clusterNames: ['source', 'gone'],
        snapshotVolumes: false,
        filters: { includeNamespaces: [ns], includeResources: ['configmaps', 'namespaces'] },
      }),
    );
    const r = await runCli([
      ...['schedule', 'run', '--policy', policyFile, '--kubeconfig', kubeconfig],
      ...['--store', store],
    ]);
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stdout, /local\/local\/source\s+\S+\s+Completed/);
    assert.match(r.stdout, /Skipped clusters:\n\s+local\/local\/gone: cluster status is \w+/);
  });

  describe('with volume snapshots on the Compute Engine stand-in', () => {
    let compute: ComputeStandin;
    const backupId = unique('cli-disks');

    before(async () => {
      compute = await ComputeStandin.start();
      compute.seedDisk({
        project: 'acme',
        zone: 'europe-west1-b',
        name: pv,
        sizeGb: 5,
        type: 'pd-balanced',
        bytes: Buffer.from(`bytes of ${ns}`),
      });
    });

    after(async () => {
      await compute?.stop();
    });

    it('backup create snapshots the disk and waits until the snapshot is READY', async () => {
      const out = jsonOf<{
        phase: string;
        volumes: { pvName: string; status: string; snapshot?: string }[];
      }>(
        await runCli([
          'backup',
          'create',
          backupId,
          '--kubeconfig',
          kubeconfigs.source(),
          '--store',
          store,
          '--include-namespaces',
          ns,
          '--key-file',
          keyFile,
          '--compute-endpoint',
          compute.url,
          '-o',
          'json',
        ]),
      );
      assert.equal(out.phase, 'Completed');
      const volume = out.volumes.find((v) => v.pvName === pv);
      assert.equal(volume?.status, 'READY', JSON.stringify(out.volumes));
      assert.ok(volume?.snapshot && compute.hasSnapshot('acme', volume.snapshot));
      const logs = await runCli(['backup', 'logs', backupId, '--store', store]);
      assert.match(logs.stdout, new RegExp(`${pv}\\s+READY\\s+${volume.snapshot}`));
    });

    it('backup create exits 1 (PartiallyFailed) when a disk cannot be snapshotted', async () => {
      const other = unique('cli-nodisk');
      const { pv: missing } = await seedWorkload(kubeHttp('source'), other);
      const out = jsonOf<{ phase: string; volumes: { pvName: string; status: string }[] }>(
        await runCli([
          ...['backup', 'create', unique('cli-nodisk'), '--kubeconfig', kubeconfigs.source()],
          ...['--store', store, '--include-namespaces', other, '--key-file', keyFile],
          ...['--compute-endpoint', compute.url, '-o', 'json'],
        ]),
        1,
      );
      assert.equal(out.phase, 'PartiallyFailed');
      assert.equal(out.volumes.find((v) => v.pvName === missing)?.status, 'FAILED');
    });

    it('restore create makes a disk from the snapshot and binds the claim to it', async () => {
      const copy = `${ns}-disk`;
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
          `${ns}:${copy}`,
          '--compute-endpoint',
          compute.url,
          '-o',
          'json',
        ]),
      );
      assert.equal(report.phase, 'Completed', JSON.stringify(report.volumes));
      assert.deepEqual(
        report.volumes.map((v) => [v.pvName, v.outcome]),
        [[pv, 'restore-from-snapshot']],
      );
      const pvc = await get(kubeHttp('target'), R.pvcs, copy, 'uploads');
      const volumeName = (pvc?.['spec'] as { volumeName?: string } | undefined)?.volumeName;
      assert.ok(volumeName, 'the restored claim names its restored volume');
      const restored = await get(kubeHttp('target'), R.pvs, undefined, volumeName);
      const handle =
        (restored?.['spec'] as { csi?: { volumeHandle: string } }).csi?.volumeHandle ?? '';
      const [, project, , zone, , disk] = handle.split('/');
      assert.notEqual(disk, pv, 'a new disk, not the source disk');
      assert.equal(
        compute.readDisk({ project: project!, zone: zone!, name: disk! }).toString(),
        `bytes of ${ns}`,
      );
    });
  });
});
