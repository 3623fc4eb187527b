import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Storage } from '@google-cloud/storage';
import { generateKeyFileContents } from '../shared/crypto/key-wrapper.js';
import { KubeHttp } from '../shared/kube/kube-http.js';
import { GcsStore } from '../shared/store/gcs-store.js';
import { cacheDir } from '../local/cache.js';
import { required } from '../local/settings.js';

export const BENCH_BUCKET = 'lifeboat-bench';

export function http(which: 'source' | 'target'): KubeHttp {
  const kc = new KubeConfig();
  kc.loadFromFile(
    required(which === 'source' ? 'LIFEBOAT_SOURCE_KUBECONFIG' : 'LIFEBOAT_TARGET_KUBECONFIG'),
  );
  return new KubeHttp(kc, 64);
}

/** The bench bucket under a prefix; a fresh prefix gives a full (not incremental) backup. */
export async function benchStore(prefix = 'bench'): Promise<GcsStore> {
  const storage = new Storage({
    apiEndpoint: required('LIFEBOAT_STORAGE_ENDPOINT'),
    projectId: 'lifeboat-local',
  });
  const [exists] = await storage.bucket(BENCH_BUCKET).exists();
  if (!exists) await storage.createBucket(BENCH_BUCKET);
  return new GcsStore(storage, BENCH_BUCKET, prefix);
}

/** One key file for every bench run, so the data key (and so sealed Secrets) stay the same. */
export function benchKeyFile(): string {
  const dir = join(cacheDir(), 'bench');
  const file = join(dir, 'key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, generateKeyFileContents(), { mode: 0o600 });
  }
  return file;
}

export function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

export const seconds = (ms: number): number => Math.round(ms) / 1000;

/** CPU time (user + system) the source API server has used so far, from /proc; NaN off Linux. */
export function apiServerCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/${required('LIFEBOAT_SOURCE_APISERVER_PID')}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1000 / 100); // clock ticks of 1/100 s
  } catch {
    return NaN;
  }
}

/** This process's CPU time (all threads) in ms. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
