import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bareList, countSeeded, seed } from './seed.js';
import { availableParallelism } from 'node:os';
import { apiServerCpuMs, emit, http, median, ownCpuMs, seconds } from './bench-env.js';

const worker = fileURLToPath(new URL('./export-worker.js', import.meta.url));
const ROUNDS = 3;
/** The heap a 256 MiB Cloud Function gets; the export must live within it at any size. */
export const WORKER_HEAP_MB = 128;

type WorkerResult = Record<string, number | string>;

function runWorker(n: number, prefix: string, backupId: string): WorkerResult {
  const run = spawnSync(
    process.execPath,
    [`--max-old-space-size=${WORKER_HEAP_MB}`, worker, String(n), prefix, backupId],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (run.status !== 0) throw new Error(`export worker failed (exit ${run.status})`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as WorkerResult;
}

/** Seeds N mixed objects into the source once; later runs reuse them. */
export async function ensureSeeded(n: number): Promise<void> {
  const source = http('source');
  const present = await countSeeded(source, n);
  if (present >= n) {
    emit({ event: 'seed reused', objects: present });
    return;
  }
  const started = performance.now();
  await seed(source, n, (done) => emit({ event: 'seeding', done, of: n }));
  emit({ event: 'seeded', objects: n, seed_s: seconds(performance.now() - started) });
}

/**
 * Alternates the floor (a bare paginated LIST of the same objects) with a
 * full export into a fresh store prefix, ROUNDS times, and reports medians;
 * then an incremental export of the unchanged cluster into the last prefix.
 */
export async function exportBench(n: number): Promise<Record<string, unknown>> {
  await ensureSeeded(n);
  const source = http('source');
  await bareList(source); // warm the API server's watch cache, which the export uses too
  const run = Date.now().toString(36);
  const floors: number[] = [];
  const fulls: WorkerResult[] = [];
  // CPU seconds beside wall seconds: on a small machine the floor alone can fill every core.
  const cpu: { list: number; listServer: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const listStarted = performance.now();
    const [listCpu, listServerCpu] = [ownCpuMs(), apiServerCpuMs()];
    const listed = await bareList(source);
    floors.push(seconds(performance.now() - listStarted));
    const listCpuS = seconds(ownCpuMs() - listCpu);
    const listServerCpuS = seconds(apiServerCpuMs() - listServerCpu);
    const exportServerCpu = apiServerCpuMs();
    const full = runWorker(n, `bench-${run}-${round}`, `bench-${n}-${run}-${round}`);
    full['export_apiserver_cpu_s'] = seconds(apiServerCpuMs() - exportServerCpu);
    fulls.push(full);
    cpu.push({ list: listCpuS, listServer: listServerCpuS });
    emit({
      event: 'round',
      round,
      listed,
      list_s: floors.at(-1),
      list_cpu_s: listCpuS,
      list_apiserver_cpu_s: listServerCpuS,
      ...full,
    });
  }
  const lastPrefix = `bench-${run}-${ROUNDS - 1}`;
  const incremental = runWorker(n, lastPrefix, `bench-${n}-${run}-incr`);
  emit({ event: 'incremental export', ...incremental });
  const listS = median(floors);
  const exportS = median(fulls.map((f) => Number(f['export_s'])));
  const uploaded = Number(fulls.at(-1)?.['uploaded_bytes']);
  return {
    bench: 'export',
    objects: Number(fulls[0]?.['objects']),
    rounds: ROUNDS,
    list_s: listS,
    export_s: exportS,
    ratio: Math.round((exportS / listS) * 100) / 100,
    cores: availableParallelism(),
    list_cpu_s: median(cpu.map((c) => c.list)),
    list_apiserver_cpu_s: median(cpu.map((c) => c.listServer)),
    export_cpu_s: median(fulls.map((f) => Number(f['export_cpu_s']))),
    export_apiserver_cpu_s: median(fulls.map((f) => Number(f['export_apiserver_cpu_s']))),
    peak_rss_mb: Math.max(
      ...fulls.map((f) => Number(f['peak_rss_mb'])),
      Number(incremental['peak_rss_mb']),
    ),
    heap_limit_mb: WORKER_HEAP_MB,
    uploaded_bytes: uploaded,
    incremental_export_s: Number(incremental['export_s']),
    incremental_uploaded_bytes: Number(incremental['uploaded_bytes']),
    incremental_percent:
      Math.round((Number(incremental['uploaded_bytes']) / uploaded) * 10000) / 100,
    store_prefix: lastPrefix,
    backup_id: fulls.at(-1)?.['backupId'],
  };
}
