import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { exportYaml } from '../../../shared/restore/export-yaml.js';
import { gcsStore, policy, sealerFor, SOURCE } from '../../../local/backup-fixture.js';
import { required, unique } from '../../../local/settings.js';
import { get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { seedWorkload } from '../../../local/sample-workload.js';

function kubectl(args: string[]): string {
  return execFileSync(
    'kubectl',
    ['--kubeconfig', required('LIFEBOAT_TARGET_KUBECONFIG'), ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

describe('catalog export as plain YAML, applied with the real kubectl', function () {
  this.timeout(180_000);

  it('writes files that kubectl apply -f accepts, recreating the namespace in the target', async () => {
    const source = kubeHttp('source');
    const store = await gcsStore();
    const { sealer, encryption } = await sealerFor(store);
    const ns = unique('yaml');
    await seedWorkload(source, ns);
    const backupId = unique('y');
    await runBackup(
      { http: source, store, sealer, encryption },
      {
        backupId,
        cluster: SOURCE,
        policy: policy({
          filters: { includeNamespaces: [ns], excludeResources: ['persistentvolumes'] },
        }),
      },
    );
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-yaml-'));
    const summary = await exportYaml(store, SOURCE, backupId, dir, sealer);
    assert.ok(summary.objects > 15);
    assert.ok(summary.skipped.some((s) => s.name === `ReplicaSet ${ns}/web-5d8f`));
    const docs = summary.files.flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')),
    );
    assert.equal(docs.length, summary.objects);
    for (const doc of docs) {
      const metadata =
        (doc.toJS() as { metadata?: Record<string, unknown> } | null)?.metadata ?? {};
      for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'ownerReferences']) {
        assert.equal(metadata[field], undefined, `no ${field} left in the YAML`);
      }
    }

    // CRDs go server-side, as large ones must (client-side apply keeps a copy in an annotation
    // limited to 256 KiB); it also leaves the target's shared CRDs as they were, annotations included.
    const crds = summary.files.filter((f) => f.startsWith('00-'));
    for (const f of crds)
      kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(dir, f)]);
    kubectl([
      'wait',
      '--for=condition=established',
      '--timeout=30s',
      'crd/widgets.example.lifeboat.dev',
    ]);
    const out = summary.files
      .filter((f) => !f.startsWith('00-'))
      .map((f) => kubectl(['apply', '-f', join(dir, f)]))
      .join('');
    assert.match(out, new RegExp(`deployment.apps/web (created|configured)`));

    const target = kubeHttp('target');
    assert.ok(await get(target, R.namespaces, undefined, ns));
    assert.equal((await list(target, R.widgets, ns)).length, 2);
    const secret = await get(target, R.secrets, ns, 'opaque');
    assert.equal(
      Buffer.from(
        (secret?.['data'] as Record<string, string>)['password'] ?? '',
        'base64',
      ).toString(),
      's3cr3t-value',
    );
    assert.equal(await get(target, R.pods, ns, 'web-5d8f-abcde'), undefined);
  });

  it('leaves encrypted Secrets out, and says so, without the key', async () => {
    const source = kubeHttp('source');
    const store = await gcsStore();
    const { sealer, encryption } = await sealerFor(store);
    const ns = unique('nokey');
    await seedWorkload(source, ns);
    const backupId = unique('y');
    await runBackup(
      { http: source, store, sealer, encryption },
      { backupId, cluster: SOURCE, policy: policy({ filters: { includeNamespaces: [ns] } }) },
    );
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-yaml-'));
    const summary = await exportYaml(store, SOURCE, backupId, dir, undefined);
    const secrets = summary.skipped.filter((s) => s.name.startsWith('Secret '));
    assert.equal(secrets.length, 4);
    assert.ok(secrets.every((s) => /encrypted Secret/.test(s.reason)));
    const all = summary.files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    assert.ok(!all.includes('kind: Secret'));
  });
});
