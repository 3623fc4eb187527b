import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadSealer } from '../../shared/crypto/data-key.js';
import { LocalKeyWrapper } from '../../shared/crypto/key-wrapper.js';
import { loadBackup, manifestOf } from '../../shared/restore/load-backup.js';
import { mapNamespaces } from '../../shared/restore/transform.js';
import { required } from '../support/environment.js';
import { benchKeyFile, benchStore, emit, seconds } from './bench-env.js';
import { ensureSeeded, WORKER_HEAP_MB } from './export-bench.js';
import { BENCH_RESOURCES, benchNamespaces } from './seed.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
/** The kinds the seed creates: controllers copy a Service's labels onto its Endpoints and EndpointSlices. */
const SEEDED_KINDS = new Set<string>(BENCH_RESOURCES.map((r) => r.kind));
const exportWorker = fileURLToPath(new URL('./export-worker.js', import.meta.url));
const restoreWorker = fileURLToPath(new URL('./restore-worker.js', import.meta.url));

export const RESTORE_PEERS = ['kubectl', 'none'] as const;
export type RestorePeers = (typeof RESTORE_PEERS)[number];

type WorkerResult = Record<string, number | string>;

/** Runs a bench worker under the heap a 256 MiB Cloud Function gets; its last line is its result. */
function runWorker(script: string, args: string[]): WorkerResult {
  const run = spawnSync(
    process.execPath,
    [`--max-old-space-size=${WORKER_HEAP_MB}`, script, ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (run.status !== 0) throw new Error(`${script} failed (exit ${run.status})`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as WorkerResult;
}

/**
 * Backs up the seeded bench objects once (seeding reused when present),
 * restores the backup into fresh namespaces in a child process with a
 * 128 MiB heap (its time, objects per second and peak RSS), then, unless
 * `peers` is none, kubectl-applies the same manifests into other ones.
 */
export async function restoreBench(
  n: number,
  peers: RestorePeers = 'kubectl',
): Promise<Record<string, unknown>> {
  await ensureSeeded(n);
  const run = Date.now().toString(36);
  const prefix = `bench-restore-${run}`;
  const backupId = `bench-${n}-${run}`;
  const exported = runWorker(exportWorker, [String(n), prefix, backupId]);
  emit({ event: 'backup', ...exported });

  const restored = runWorker(restoreWorker, [String(n), prefix, backupId, run]);
  const restoreS = Number(restored['restore_s']);
  const objects = Number(restored['restored']);
  emit({ event: 'lifeboat restore', ...restored });
  const summary = {
    bench: 'restore',
    objects,
    failed: Number(restored['failed']),
    restore_s: restoreS,
    restore_objects_per_s: Math.round(objects / restoreS),
    restore_cpu_s: Number(restored['restore_cpu_s']),
    peak_rss_mb: Number(restored['peak_rss_mb']),
    heap_limit_mb: WORKER_HEAP_MB,
    peers,
  };
  if (peers === 'none') return summary;

  // The same manifests, as kubectl would get them from a plain export, into other fresh namespaces.
  const store = await benchStore(prefix);
  const sealer = await loadSealer(store, new LocalKeyWrapper(benchKeyFile()));
  const { records } = await loadBackup(store, SOURCE, backupId);
  const kmap = Object.fromEntries(benchNamespaces(n).map((ns, i) => [ns, `rk${run}-${i}`]));
  // What the seed made (not what controllers made from it, which Lifeboat skips too): the same work.
  const docs = records
    .map((r) => mapNamespaces(manifestOf(r, sealer), kmap))
    .filter(
      (d) =>
        d.kind === 'Namespace' ||
        (SEEDED_KINDS.has(d.kind) && d.metadata.labels?.['lifeboat.dev/bench'] !== undefined),
    );
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
  if (applied.status !== 0) {
    const errors = applied.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('Warning'));
    throw new Error(`kubectl apply failed: ${errors.slice(0, 5).join('\n')}`);
  }
  emit({ event: 'kubectl apply', kubectl_s: kubectlS, objects: docs.length });
  return {
    ...summary,
    kubectl_s: kubectlS,
    speedup: Math.round((kubectlS / restoreS) * 100) / 100,
  };
}
