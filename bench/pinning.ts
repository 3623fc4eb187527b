import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** The CPU list a process may run on, as taskset prints it (e.g. "0,1" or "0-1"). */
export function affinity(pid: number): string {
  const run = spawnSync('taskset', ['-p', '-c', String(pid)], { encoding: 'utf8' });
  const list = /affinity list:\s*(\S+)/.exec(run.stdout)?.[1];
  if (run.status !== 0 || !list) {
    throw new Error(`taskset could not read the affinity of pid ${pid}: ${run.stderr.trim()}`);
  }
  return list;
}

/** Pins every thread of a process (a Go API server runs many) to the CPU list. */
export function pin(pid: number, cpus: string): void {
  const run = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`taskset could not pin pid ${pid} to CPUs ${cpus}: ${run.stderr.trim()}`);
  }
}

/** Why the GKE-like topology cannot be measured here, or undefined when it can. */
export function cannotPin(apiServerPid: number): string | undefined {
  if (availableParallelism() < 2) return 'fewer than two cores';
  if (!Number.isInteger(apiServerPid) || apiServerPid <= 0) {
    return 'LIFEBOAT_SOURCE_APISERVER_PID is not a pid';
  }
  if (spawnSync('taskset', ['-V']).status !== 0) return 'taskset is not installed';
  return undefined;
}

/**
 * The GKE-like topology: the API server (etcd runs in its process) on core 0,
 * this process on core 1. Children spawned meanwhile (the export worker)
 * inherit core 1, as does the floor's lister, which runs here. Both
 * affinities are restored afterwards, even when `body` throws.
 */
export async function withPinnedTopology<T>(
  apiServerPid: number,
  body: () => Promise<T>,
): Promise<T> {
  const [serverWas, selfWas] = [affinity(apiServerPid), affinity(process.pid)];
  pin(apiServerPid, '0');
  try {
    pin(process.pid, '1');
    try {
      return await body();
    } finally {
      pin(process.pid, selfWas);
    }
  } finally {
    pin(apiServerPid, serverWas);
  }
}
