import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bareList, benchNamespaces, countSeeded, seed, settle } from './seed.js';
import { bareListAt, currentRevision } from './exact-list.js';
import { cannotPin, withPinnedTopology } from './pinning.js';
import { floorResources } from './bench-policy.js';
import { required } from '../local/settings.js';
import { KubeApiError } from '../shared/kube/kube-http.js';
import { availableParallelism } from 'node:os';
import { apiServerCpuMs, emit, http, median, ownCpuMs, seconds } from './bench-env.js';

const worker = fileURLToPath(new URL('./export-worker.js', import.meta.url));
const ROUNDS = 3;
/** The heap a 256 MiB Cloud Function gets; the export must live within it at any size. */
export const WORKER_HEAP_MB = 128;

type WorkerResult = Record<string, number | string>;
/** One namespace of one cluster, instead of the source's bench-N-* namespaces. */
type Only = { cluster: 'source' | 'target'; namespace: string };
/** The small namespace of --namespace-only: the N=200 bench set is exactly one namespace. */
const SMALL = 200;

function runWorker(n: number, prefix: string, backupId: string, only?: Only): WorkerResult {
  const run = spawnSync(
    process.execPath,
    [
      `--max-old-space-size=${WORKER_HEAP_MB}`,
      worker,
      String(n),
      prefix,
      backupId,
      ...(only ? [only.cluster, only.namespace] : []),
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (run.status !== 0) throw new Error(`export worker failed (exit ${run.status})`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as WorkerResult;
}

/**
 * Seeds N mixed objects into the source once (later runs reuse them), then
 * waits until the controllers have made theirs, so every round and the
 * incremental backup see the same cluster.
 */
export async function ensureSeeded(n: number): Promise<void> {
  const source = http('source');
  const present = await countSeeded(source, n);
  if (present >= n) {
    emit({ event: 'seed reused', objects: present });
  } else {
    const started = performance.now();
    await seed(source, n, (done) => emit({ event: 'seeding', done, of: n }));
    emit({ event: 'seeded', objects: n, seed_s: seconds(performance.now() - started) });
  }
  const started = performance.now();
  const state = await settle(source, await floorResources(source, n), (now) =>
    emit({ event: 'settling', state: now }),
  );
  emit({ event: 'settled', state, settle_s: seconds(performance.now() - started) });
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const per1000 = (cpuS: number, objects: number): number =>
  Math.round((cpuS / objects) * 1e6) / 1000;

/**
 * Times a bare LIST, starting it over when the API server compacted its
 * revision mid-way (410 Expired: seen at 100,000 objects with the server
 * pinned to one core); only the attempt that completes is timed.
 */
async function timedList(what: string, list: () => Promise<number>): Promise<[number, number]> {
  for (;;) {
    const started = performance.now();
    try {
      const listed = await list();
      return [listed, seconds(performance.now() - started)];
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 410)) throw error;
      emit({ event: 'list restarted', list: what, reason: error.message });
    }
  }
}

/**
 * Alternates the floor (a bare paginated LIST of the same objects) with a
 * full export into a fresh store prefix, ROUNDS times, and reports medians;
 * beside them a plain LIST and a LIST at an exact revision, for the cost of
 * point-in-time listing. `topology` names the CPU placement it ran under.
 */
async function rounds(n: number, run: string, topology: string): Promise<Record<string, number>> {
  const source = http('source');
  const resources = await floorResources(source, n);
  await bareList(source, resources); // warm the API server's watch cache, which the export uses too
  const floors: number[] = [];
  const fulls: WorkerResult[] = [];
  const plain: number[] = [];
  const exact: number[] = [];
  // CPU seconds beside wall seconds: on a small machine the floor alone can fill every core.
  const cpu: { list: number; listServer: number }[] = [];
  let listed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const [listCpu, listServerCpu] = [ownCpuMs(), apiServerCpuMs()];
    const [count, floorS] = await timedList('floor', () => bareList(source, resources));
    listed = count;
    floors.push(floorS);
    const listCpuS = seconds(ownCpuMs() - listCpu);
    const listServerCpuS = seconds(apiServerCpuMs() - listServerCpu);
    const exportServerCpu = apiServerCpuMs();
    const id = `${topology}-${run}-${round}`;
    const full = runWorker(n, `bench-${id}`, `bench-${n}-${id}`);
    full['export_apiserver_cpu_s'] = seconds(apiServerCpuMs() - exportServerCpu);
    fulls.push(full);
    cpu.push({ list: listCpuS, listServer: listServerCpuS });
    // Alternating which goes first, so that neither always follows the export's load.
    for (const atRevision of round % 2 === 0 ? [false, true] : [true, false]) {
      const [, listS] = await timedList(atRevision ? 'exact' : 'plain', async () =>
        bareListAt(source, resources, atRevision ? await currentRevision(source) : undefined),
      );
      (atRevision ? exact : plain).push(listS);
    }
    emit({
      event: 'round',
      topology,
      round,
      listed,
      list_s: floors.at(-1),
      list_cpu_s: listCpuS,
      list_apiserver_cpu_s: listServerCpuS,
      plain_list_s: plain.at(-1),
      exact_list_s: exact.at(-1),
      ...full,
    });
  }
  const listS = median(floors);
  const exportS = median(fulls.map((f) => Number(f['export_s'])));
  const objects = Number(fulls[0]?.['objects']);
  const listCpuS = median(cpu.map((c) => c.list));
  const exportCpuS = median(fulls.map((f) => Number(f['export_cpu_s'])));
  return {
    objects,
    floor_s: listS,
    export_s: exportS,
    ratio: round2(exportS / listS),
    list_cpu_s: listCpuS,
    list_apiserver_cpu_s: median(cpu.map((c) => c.listServer)),
    export_cpu_s: exportCpuS,
    export_apiserver_cpu_s: median(fulls.map((f) => Number(f['export_apiserver_cpu_s']))),
    export_cpu_s_per_1000: per1000(exportCpuS, objects),
    floor_cpu_s_per_1000: per1000(listCpuS, listed),
    plain_list_s: median(plain),
    exact_list_s: median(exact),
    exact_over_plain: round2(median(exact) / median(plain)),
    peak_rss_mb: Math.max(...fulls.map((f) => Number(f['peak_rss_mb']))),
    uploaded_bytes: Number(fulls.at(-1)?.['uploaded_bytes']),
  };
}

/**
 * Both topologies in one run: today's (everything shares every core) and the
 * GKE-like one (API server on core 0, exporter and floor on core 1); then an
 * incremental export of the unchanged cluster into the last shared prefix.
 * The top-level fields are the shared topology's, as before.
 */
export async function exportBench(n: number): Promise<Record<string, unknown>> {
  await ensureSeeded(n);
  const run = Date.now().toString(36);
  const shared = await rounds(n, run, 'shared');
  const serverPid = Number(required('LIFEBOAT_SOURCE_APISERVER_PID'));
  const why = cannotPin(serverPid);
  const pinned = why
    ? { skipped: why }
    : await withPinnedTopology(serverPid, () => rounds(n, run, 'pinned'));
  const lastPrefix = `bench-shared-${run}-${ROUNDS - 1}`;
  const incremental = runWorker(n, lastPrefix, `bench-${n}-${run}-incr`);
  emit({ event: 'incremental export', ...incremental });
  const uploaded = Number(shared['uploaded_bytes']);
  return {
    bench: 'export',
    objects: shared['objects'],
    rounds: ROUNDS,
    list_s: shared['floor_s'],
    export_s: shared['export_s'],
    ratio: shared['ratio'],
    cores: availableParallelism(),
    list_cpu_s: shared['list_cpu_s'],
    list_apiserver_cpu_s: shared['list_apiserver_cpu_s'],
    export_cpu_s: shared['export_cpu_s'],
    export_apiserver_cpu_s: shared['export_apiserver_cpu_s'],
    peak_rss_mb: Math.max(
      Number(shared['peak_rss_mb']),
      'peak_rss_mb' in pinned ? Number(pinned['peak_rss_mb']) : 0,
      Number(incremental['peak_rss_mb']),
    ),
    heap_limit_mb: WORKER_HEAP_MB,
    uploaded_bytes: uploaded,
    incremental_export_s: Number(incremental['export_s']),
    incremental_uploaded_bytes: Number(incremental['uploaded_bytes']),
    incremental_percent:
      Math.round((Number(incremental['uploaded_bytes']) / uploaded) * 10000) / 100,
    store_prefix: lastPrefix,
    backup_id: `bench-${n}-shared-${run}-${ROUNDS - 1}`,
    shared,
    pinned,
  };
}

/** The SMALL-object namespace in a cluster, seeded once (the bench set for N=SMALL). */
async function ensureSmall(cluster: 'source' | 'target'): Promise<string> {
  const kube = http(cluster);
  if ((await countSeeded(kube, SMALL)) < SMALL) await seed(kube, SMALL, () => undefined);
  await settle(kube, await floorResources(kube, SMALL), () => undefined);
  const namespace = benchNamespaces(SMALL)[0];
  if (!namespace) throw new Error('no bench namespace for the small set');
  return namespace;
}

/**
 * The cost the rest of a cluster puts on backing up one small namespace
 * named in the policy: its backup time in the source (beside N others) over
 * its backup time in the target (holding only it), medians of ROUNDS
 * alternating runs. Shared topology: the target's API server has no pid here.
 */
export async function namespaceOnlyBench(n: number): Promise<Record<string, unknown>> {
  await ensureSeeded(n);
  const namespace = await ensureSmall('source');
  await ensureSmall('target');
  const run = Date.now().toString(36);
  const times: Record<'source' | 'target', number[]> = { source: [], target: [] };
  let objects = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const cluster of ['source', 'target'] as const) {
      const id = `ns-${cluster}-${run}-${round}`;
      const result = runWorker(SMALL, `bench-${id}`, `bench-${id}`, { cluster, namespace });
      objects = Number(result['objects']);
      times[cluster].push(Number(result['export_s']));
      emit({ event: 'namespace backup', cluster, round, ...result });
    }
  }
  const full = median(times.source);
  const empty = median(times.target);
  return {
    bench: 'export-namespace-only',
    cluster_objects: n,
    namespace,
    objects,
    rounds: ROUNDS,
    full_cluster_export_s: full,
    empty_cluster_export_s: empty,
    ratio: round2(full / empty),
    target_ratio: 1.2,
  };
}
