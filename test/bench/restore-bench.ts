import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadSealer } from '../../shared/crypto/data-key.js';
import { LocalKeyWrapper } from '../../shared/crypto/key-wrapper.js';
import { RestoreOptions } from '../../shared/messages/restore.js';
import { loadBackup, manifestOf } from '../../shared/restore/load-backup.js';
import { runRestore } from '../../shared/restore/run-restore.js';
import { mapNamespaces } from '../../shared/restore/transform.js';
import { validate } from '../../shared/validate.js';
import { required } from '../support/environment.js';
import { benchKeyFile, benchStore, emit, http, seconds } from './bench-env.js';
import { exportBench } from './export-bench.js';
import { benchNamespaces } from './seed.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };

/** Restores the bench backup into fresh namespaces, then kubectl-applies the same manifests into others. */
export async function restoreBench(n: number): Promise<Record<string, unknown>> {
  const exported = await exportBench(n);
  const store = await benchStore(String(exported['store_prefix']));
  const backupId = String(exported['backup_id']);
  const sealer = await loadSealer(store, new LocalKeyWrapper(benchKeyFile()));
  const run = Date.now().toString(36);
  const mapping = (prefix: string): Record<string, string> =>
    Object.fromEntries(benchNamespaces(n).map((ns, i) => [ns, `${prefix}${run}-${i}`]));

  const target = http('target');
  const started = performance.now();
  const report = await runRestore(
    { http: target, store, sealer },
    {
      restoreId: `bench-${run}`,
      source: SOURCE,
      backupId,
      target: { project: 'local', location: 'local', name: 'target' },
      options: validate(
        RestoreOptions,
        { namespaceMapping: mapping('rl') },
        'bench restore options',
      ),
    },
  );
  const restoreS = seconds(performance.now() - started);
  emit({ event: 'lifeboat restore', restore_s: restoreS, phase: report.phase, ...report.counts });

  // The same manifests, as kubectl would get them from a plain export, into other fresh namespaces.
  const { records } = await loadBackup(store, SOURCE, backupId);
  const kmap = mapping('rk');
  const docs = records.map((r) => mapNamespaces(manifestOf(r, sealer), kmap));
  const namespaces = docs.filter((d) => d.kind === 'Namespace');
  const rest = docs.filter((d) => d.kind !== 'Namespace');
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-kubectl-'));
  writeFileSync(join(dir, '0-namespaces.yaml'), namespaces.map((d) => stringify(d)).join('---\n'));
  writeFileSync(join(dir, '1-objects.yaml'), rest.map((d) => stringify(d)).join('---\n'));
  const kubectlStarted = performance.now();
  const applied = spawnSync(
    'kubectl',
    ['--kubeconfig', required('LIFEBOAT_TARGET_KUBECONFIG'), 'apply', '-f', dir],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const kubectlS = seconds(performance.now() - kubectlStarted);
  if (applied.status !== 0)
    throw new Error(`kubectl apply failed: ${applied.stderr.slice(0, 500)}`);
  emit({ event: 'kubectl apply', kubectl_s: kubectlS, objects: docs.length });
  return {
    bench: 'restore',
    objects: report.counts.restored,
    failed: report.counts.failed,
    restore_s: restoreS,
    kubectl_s: kubectlS,
    speedup: Math.round((kubectlS / restoreS) * 100) / 100,
    restore_objects_per_s: Math.round(report.counts.restored / restoreS),
  };
}
