/**
 * What the controllers cost a local cluster: `node dist/bench/cluster-bench.js [--rounds N] [--idle-s S]`
 * (after `npm run build`; it starts its own clusters, so it needs no environment).
 *
 * Alternates starting a cluster with and without its controller manager,
 * ROUNDS times each, and reports median start times (ready means /readyz, and
 * with controllers also the "default" ServiceAccount their service-account
 * controller makes). Then keeps one of each idle for S seconds and reports
 * the CPU seconds (user + system, from /proc) of the controller manager and of
 * both API servers, and the controller manager's resident memory. JSON lines.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKubeCluster, startKubeCluster, type LocalCluster } from '../local/kube-apiserver.js';
import { stopService } from '../local/process.js';
import { emit, median, seconds } from './bench-env.js';

/** CPU time (user + system) of a process so far, in ms, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100); // clock ticks of 1/100 s
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return Math.round(kb / 1024);
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, not "${process.argv[at + 1] ?? ''}"`);
  }
  return value;
}

async function timedStart(
  binary: string,
  workDir: string,
  name: string,
  controllers: boolean,
): Promise<{ cluster: LocalCluster; startS: number }> {
  const started = performance.now();
  const cluster = await startKubeCluster(binary, workDir, name, { controllers });
  return { cluster, startS: seconds(performance.now() - started) };
}

async function main(): Promise<void> {
  const rounds = option('--rounds', 3);
  const idleS = option('--idle-s', 60);
  const binary = buildKubeCluster();
  const workDir = mkdtempSync(join(tmpdir(), 'lifeboat-cluster-bench-'));
  const running: LocalCluster[] = [];
  try {
    const starts: Record<'with' | 'without', number[]> = { with: [], without: [] };
    for (let round = 0; round < rounds; round++) {
      for (const controllers of [true, false]) {
        const { cluster, startS } = await timedStart(
          binary,
          workDir,
          `r${round}-${controllers ? 'with' : 'without'}`,
          controllers,
        );
        await stopService(cluster.service);
        starts[controllers ? 'with' : 'without'].push(startS);
        emit({ event: 'start', round, controllers, start_s: startS });
      }
    }

    const withControllers = (await timedStart(binary, workDir, 'idle-with', true)).cluster;
    running.push(withControllers);
    const without = (await timedStart(binary, workDir, 'idle-without', false)).cluster;
    running.push(without);
    const cm = withControllers.controllers?.pid ?? 0;
    const [apiWith, apiWithout] = [withControllers, without].map((c) => c.service.child.pid ?? 0);
    const before = [cm, apiWith, apiWithout].map((pid) => cpuMs(pid ?? 0));
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const [cmCpu, apiWithCpu, apiWithoutCpu] = [cm, apiWith, apiWithout].map((pid, i) =>
      seconds(cpuMs(pid ?? 0) - (before[i] ?? 0)),
    );
    emit({
      bench: 'cluster',
      rounds,
      start_with_controllers_s: median(starts.with),
      start_without_controllers_s: median(starts.without),
      idle_s: idleS,
      idle_controller_manager_cpu_s: cmCpu,
      idle_apiserver_cpu_s_with_controllers: apiWithCpu,
      idle_apiserver_cpu_s_without_controllers: apiWithoutCpu,
      controller_manager_rss_mb: rssMb(cm),
    });
  } finally {
    await Promise.all(running.map((c) => stopService(c.service)));
    await rm(workDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `cluster-bench: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
