/**
 * Velero as a peer: its build (local/build-velero.sh, cached), one
 * `velero server` run out of cluster at a time, its CLI, and the memory of
 * the server and of the plugin processes it starts.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  startService,
  stopService,
  waitUntilReady,
  type Service,
} from '../local/process.js';

const scriptDir = dirname(fileURLToPath(import.meta.url));
/** local/build-velero.sh, in the source tree (this file runs from dist/bench). */
const buildScript = join(scriptDir, '..', '..', 'local', 'build-velero.sh');

export const VELERO_NAMESPACE = 'velero';
/** controller-runtime inside `velero server` binds this for its metrics, whatever the flags say. */
const CONTROLLER_METRICS_PORT = 8080;

export interface VeleroBuild {
  velero: string;
  /** A directory holding only the GCP plugin: velero runs every executable of its plugin dir. */
  pluginDir: string;
  build_s: number;
}

export function buildVelero(): VeleroBuild {
  const started = performance.now();
  const dir = execFileSync('bash', [buildScript], { stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim();
  const pluginDir = mkdtempSync(join(tmpdir(), 'lifeboat-velero-plugins-'));
  const plugin = join(pluginDir, 'velero-plugin-for-gcp');
  copyFileSync(join(dir, 'velero-plugin-for-gcp'), plugin);
  chmodSync(plugin, 0o755);
  return {
    velero: join(dir, 'velero'),
    pluginDir,
    build_s: Math.round(performance.now() - started) / 1000,
  };
}

export interface CliResult {
  stdout: string;
  stderr: string;
}

/** Runs the velero CLI against one cluster without blocking the event loop (memory is polled meanwhile). */
export function veleroCli(
  build: VeleroBuild,
  kubeconfig: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      build.velero,
      [...args, '--kubeconfig', kubeconfig, '--namespace', VELERO_NAMESPACE],
      { env, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(`velero ${args.slice(0, 3).join(' ')} failed: ${error.message}\n${stderr}`),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** Waits for :8080 to be free, since a second velero server would fail to bind it. */
async function waitForMetricsPort(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portFree(CONTROLLER_METRICS_PORT))) {
    if (Date.now() > deadline) {
      throw new Error(
        `port ${CONTROLLER_METRICS_PORT} is still in use after ${timeoutMs / 1000}s: velero server ` +
          `binds it for controller-runtime's metrics; is another velero server running?`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // exited between listing and reading
  }
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone
    }
  }
  return children;
}

export interface VeleroServer {
  service: Service;
  /** Highest RSS of the server, plugins included, seen by polling since the last reset. */
  peaks(): { server_mb: number; with_plugins_mb: number };
  stop(): Promise<{ server_mb: number; with_plugins_mb: number }>;
}

export interface ServerOptions {
  kubeconfig: string;
  /** Raised client QPS and burst (1000 each) instead of Velero's defaults. */
  fast: boolean;
  logFile: string;
  /** fake-gcs-server's URL, for the GCP plugin through STORAGE_EMULATOR_HOST. */
  storageEndpoint: string;
  /** A dummy service-account key: the GCP plugin insists on one to sign URLs. */
  keyFile: string;
}

/** The environment the server and the CLI need to reach fake-gcs-server as the bucket. */
export function veleroEnv(o: Pick<ServerOptions, 'kubeconfig' | 'storageEndpoint' | 'keyFile'>) {
  return {
    ...process.env,
    KUBECONFIG: o.kubeconfig,
    VELERO_NAMESPACE,
    STORAGE_EMULATOR_HOST: o.storageEndpoint,
    GOOGLE_APPLICATION_CREDENTIALS: o.keyFile,
  };
}

/**
 * Starts `velero server` out of cluster (its own process group, so its
 * plugins stop with it) and waits until its backup storage location is
 * Available. Memory is polled every 200 ms: plugin processes come and go
 * with each backup and restore, so their peak cannot be read afterwards.
 */
export async function startVeleroServer(
  build: VeleroBuild,
  o: ServerOptions,
): Promise<VeleroServer> {
  await waitForMetricsPort(120_000);
  const args = [
    'server',
    '--kubeconfig',
    o.kubeconfig,
    '--namespace',
    VELERO_NAMESPACE,
    '--plugin-dir',
    build.pluginDir,
    '--metrics-address',
    `127.0.0.1:${await freePort()}`,
    '--profiler-address',
    `127.0.0.1:${await freePort()}`,
    // The restore server must see the backup the other cluster's server wrote; not timed.
    '--backup-sync-period',
    '5s',
    '--store-validation-frequency',
    '5s',
  ];
  if (o.fast) args.push('--client-qps', '1000', '--client-burst', '1000');
  const service = startService('velero server', build.velero, args, o.logFile, veleroEnv(o));
  const pid = service.child.pid;
  if (pid === undefined) throw new Error(`velero server did not start; see ${o.logFile}`);
  let serverMb = 0;
  let totalMb = 0;
  const poll = (): void => {
    const server = statusKb(pid, 'VmRSS');
    const plugins = childrenOf(pid).reduce((sum, c) => sum + statusKb(c, 'VmRSS'), 0);
    serverMb = Math.max(serverMb, statusKb(pid, 'VmHWM') / 1024);
    totalMb = Math.max(totalMb, (server + plugins) / 1024);
  };
  const timer = setInterval(poll, 200);
  const peaks = () => ({ server_mb: Math.round(serverMb), with_plugins_mb: Math.round(totalMb) });
  const stop = async () => {
    poll();
    clearInterval(timer);
    const result = peaks();
    await stopService(service, 10_000);
    return result;
  };
  try {
    await waitUntilReady(
      service,
      async () => {
        const { stdout } = await veleroCli(
          build,
          o.kubeconfig,
          ['backup-location', 'get', 'default', '-o', 'json'],
          veleroEnv(o),
        );
        return (
          (JSON.parse(stdout) as { status?: { phase?: string } }).status?.phase === 'Available'
        );
      },
      180_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { service, peaks, stop };
}
