import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadSealer } from '../shared/catalog/data-key.js';
import { LocalKeyWrapper } from '../shared/crypto/key-wrapper.js';
import { loadBackup, manifestOf } from '../shared/catalog/load-backup.js';
import { mapNamespaces } from '../shared/restore/transform.js';
import { mapLimit } from '../shared/concurrency.js';
import { resourcePath } from '../shared/kube/kube-http.js';
import type { KubeObject } from '../shared/kube/sanitize.js';
import { required } from '../local/settings.js';
import { benchKeyFile, benchStore, emit, http, seconds } from './bench-env.js';
import { ensureSeeded, WORKER_HEAP_MB } from './export-bench.js';
import { BENCH_RESOURCES, benchNamespaces, settle } from './seed.js';
import { floorResources } from './bench-policy.js';

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

  await targetSettled(n, 'lifeboat restore');
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
  const docs = await manifestsAsSeeded(prefix, backupId, n);
  await targetSettled(n, 'floor');
  const floor = await floorBench(docs, run);
  emit({ event: 'floor', ...floor });
  const withFloor = {
    ...summary,
    floor_s: floor.floor_s,
    floor_objects: floor.objects,
    restore_floor_ratio: Math.round((restoreS / floor.floor_s) * 100) / 100,
  };
  if (peers === 'none') return withFloor;

  await targetSettled(n, 'kubectl apply');
  const clientSide = kubectlClientSide(docs, run);
  emit({ event: 'kubectl apply', ...clientSide });
  await targetSettled(n, 'kubectl apply --server-side');
  const serverSide = await kubectlServerSide(docs, run);
  emit({ event: 'kubectl apply --server-side', ...serverSide });
  return {
    ...withFloor,
    kubectl_s: clientSide.kubectl_s,
    speedup: Math.round((clientSide.kubectl_s / restoreS) * 100) / 100,
    kubectl_server_side_s: serverSide.kubectl_server_side_s,
    speedup_server_side: Math.round((serverSide.kubectl_server_side_s / restoreS) * 100) / 100,
  };
}

/**
 * Waits until the target's controllers are done with what the previous
 * contender restored (a ReplicaSet per Deployment, Endpoints and an
 * EndpointSlice per Service), so that no contender pays for another's.
 */
async function targetSettled(n: number, next: string): Promise<void> {
  const target = http('target');
  const started = performance.now();
  const state = await settle(target, await floorResources(target, n), () => undefined);
  emit({
    event: 'target settled',
    before: next,
    state,
    settle_s: seconds(performance.now() - started),
  });
}

/** The restore's concurrency (RestoreOptions.parallelism's default), which the floor and peers get too. */
const PARALLELISM = 16;

/**
 * The backup's objects as the seed made them (not what controllers made
 * from them, which Lifeboat skips too: the same work), as a plain export
 * would give them, namespaces first.
 */
async function manifestsAsSeeded(
  prefix: string,
  backupId: string,
  n: number,
): Promise<KubeObject[]> {
  const store = await benchStore(prefix);
  const sealer = await loadSealer(store, new LocalKeyWrapper(benchKeyFile()));
  const { records } = await loadBackup(store, SOURCE, backupId);
  const seeded = new Set(benchNamespaces(n));
  return records
    .map((r) => manifestOf(r, sealer))
    .filter(
      (d) =>
        (d.kind === 'Namespace' && seeded.has(d.metadata.name)) ||
        (SEEDED_KINDS.has(d.kind) && d.metadata.labels?.['lifeboat.dev/bench'] !== undefined),
    );
}

function intoFreshNamespaces(docs: KubeObject[], namePrefix: string): KubeObject[] {
  const namespaces = docs.filter((d) => d.kind === 'Namespace').map((d) => d.metadata.name);
  const mapping = Object.fromEntries(namespaces.map((ns, i) => [ns, `${namePrefix}-${i}`]));
  return docs.map((d) => mapNamespaces(structuredClone(d), mapping));
}

/**
 * The floor: the same objects POSTed at the restore's concurrency into
 * fresh namespaces (created first, since nothing can be created in a
 * namespace that does not exist), with no ordering, verification or label.
 */
async function floorBench(
  docs: KubeObject[],
  run: string,
): Promise<{ floor_s: number; objects: number; failed: number }> {
  const objects = intoFreshNamespaces(docs, `rf${run}`);
  const target = http('target');
  const post = async (o: KubeObject): Promise<boolean> => {
    const { group, version } = groupVersion(o.apiVersion);
    const ref = {
      group,
      version,
      resource: PLURALS[o.kind] ?? '',
      namespaced: o.kind !== 'Namespace',
    };
    if (!ref.resource) throw new Error(`the floor has no plural for ${o.kind}`);
    try {
      await target.request('POST', resourcePath(ref, o.metadata.namespace), { body: o });
      return true;
    } catch {
      return false;
    }
  };
  const started = performance.now();
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  const rest = objects.filter((o) => o.kind !== 'Namespace');
  const created = [
    ...(await mapLimit(namespaces, PARALLELISM, post)),
    ...(await mapLimit(rest, PARALLELISM, post)),
  ];
  return {
    floor_s: seconds(performance.now() - started),
    objects: objects.length,
    failed: created.filter((ok) => !ok).length,
  };
}

function groupVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Plurals of the kinds the bench seeds (BENCH_RESOURCES) and of Namespace. */
const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ...Object.fromEntries(BENCH_RESOURCES.map((r) => [r.kind, r.resource])),
};

function kubectl(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'kubectl',
      ['--kubeconfig', required('LIFEBOAT_TARGET_KUBECONFIG'), ...args],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

function failure(what: string, stderr: string): Error {
  const errors = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('Warning'));
  return new Error(`${what} failed: ${errors.slice(0, 5).join('\n')}`);
}

/** The peer most users would reach for: one client-side `kubectl apply -f` of the export. */
function kubectlClientSide(
  docs: KubeObject[],
  run: string,
): { kubectl_s: number; objects: number } {
  const objects = intoFreshNamespaces(docs, `rk${run}`);
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-kubectl-'));
  const namespaces = objects.filter((d) => d.kind === 'Namespace');
  const rest = objects.filter((d) => d.kind !== 'Namespace');
  writeFileSync(join(dir, '0-namespaces.yaml'), namespaces.map((d) => stringify(d)).join('---\n'));
  writeFileSync(join(dir, '1-objects.yaml'), rest.map((d) => stringify(d)).join('---\n'));
  const started = performance.now();
  const applied = spawnSync(
    'kubectl',
    ['--kubeconfig', required('LIFEBOAT_TARGET_KUBECONFIG'), 'apply', '-f', dir],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  const kubectlS = seconds(performance.now() - started);
  if (applied.status !== 0) throw failure('kubectl apply', applied.stderr);
  return { kubectl_s: kubectlS, objects: objects.length };
}

/**
 * The peer a user in a hurry would script: the namespaces applied
 * server-side, then one `kubectl apply --server-side` per namespace, 16
 * processes at a time.
 */
async function kubectlServerSide(
  docs: KubeObject[],
  run: string,
): Promise<{ kubectl_server_side_s: number; objects: number; processes: number }> {
  const objects = intoFreshNamespaces(docs, `rs${run}`);
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-kubectl-ssa-'));
  const namespaces = objects.filter((d) => d.kind === 'Namespace');
  writeFileSync(join(dir, 'namespaces.yaml'), namespaces.map((d) => stringify(d)).join('---\n'));
  const files = namespaces.map((ns) => {
    const file = join(dir, `ns-${ns.metadata.name}.yaml`);
    const inside = objects.filter((d) => d.metadata.namespace === ns.metadata.name);
    writeFileSync(file, inside.map((d) => stringify(d)).join('---\n'));
    return file;
  });
  const serverSide = ['apply', '--server-side', '--field-manager=restore', '-f'];
  const started = performance.now();
  const first = await kubectl([...serverSide, join(dir, 'namespaces.yaml')]);
  if (first.status !== 0)
    throw failure('kubectl apply --server-side of the namespaces', first.stderr);
  await mapLimit(files, PARALLELISM, async (file) => {
    const applied = await kubectl([...serverSide, file]);
    if (applied.status !== 0)
      throw failure(`kubectl apply --server-side -f ${file}`, applied.stderr);
  });
  return {
    kubectl_server_side_s: seconds(performance.now() - started),
    objects: objects.length,
    processes: PARALLELISM,
  };
}
