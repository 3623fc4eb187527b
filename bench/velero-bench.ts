/**
 * `npm run bench -- velero`: Lifeboat's backup and restore of the seeded
 * bench namespaces beside Velero's (built from source, run out of cluster,
 * fake-gcs-server as its bucket through its GCP plugin), with Velero's
 * defaults and with its client QPS and burst raised; time, peak RSS and the
 * objects each counted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { required } from '../local/settings.js';
import { emit, median, seconds } from './bench-env.js';
import { ensureSeeded, WORKER_HEAP_MB } from './export-bench.js';
import { benchNamespaces } from './seed.js';
import {
  dummyServiceAccountKey,
  ensureVeleroBucket,
  getVeleroObject,
  prepareCluster,
} from './velero-cluster.js';
import {
  buildVelero,
  startVeleroServer,
  veleroCli,
  veleroEnv,
  type VeleroBuild,
} from './velero-server.js';

const exportWorker = fileURLToPath(new URL('./export-worker.js', import.meta.url));
const restoreWorker = fileURLToPath(new URL('./restore-worker.js', import.meta.url));

type WorkerResult = Record<string, number | string>;

/** A Lifeboat bench worker under a Cloud Function's heap; its last stdout line is its result. */
function runWorker(script: string, args: string[]): WorkerResult {
  const run = spawnSync(
    process.execPath,
    [`--max-old-space-size=${WORKER_HEAP_MB}`, script, ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`${script} failed (exit ${run.status})`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as WorkerResult;
}

function field(result: WorkerResult, name: string, what: string): number {
  const value = Number(result[name]);
  if (!Number.isFinite(value)) {
    throw new Error(`${what} printed no numeric "${name}": ${JSON.stringify(result)}`);
  }
  return value;
}

interface Context {
  build: VeleroBuild;
  source: string;
  target: string;
  storageEndpoint: string;
  keyFile: string;
  logDir: string;
  namespaces: string[];
}

const MODES = ['default', 'fast'] as const;
type Mode = (typeof MODES)[number];

interface VeleroResult {
  seconds: number;
  objects: number;
  phase: string;
  errors: number;
  server_peak_rss_mb: number;
  with_plugins_peak_rss_mb: number;
}

function progress(obj: Record<string, unknown> | undefined): {
  phase: string;
  errors: number;
  progress: Record<string, number>;
} {
  const status = (obj?.['status'] ?? {}) as {
    phase?: string;
    errors?: number;
    progress?: Record<string, number>;
  };
  return {
    phase: status.phase ?? 'unknown',
    errors: status.errors ?? 0,
    progress: status.progress ?? {},
  };
}

/** One Velero backup or restore: what the CLI is asked, on which cluster, and what counts as done. */
interface VeleroRun {
  kind: 'backup' | 'restore';
  name: string;
  kubeconfig: string;
  args: string[];
  phasesAccepted: string[];
  /** The status.progress field that counts the objects. */
  objectsField: 'itemsBackedUp' | 'itemsRestored';
  /** What must hold before the clock starts, with the server up. */
  before?: () => Promise<void>;
}

/** Times one run against a Velero server started for it alone, whose peak RSS it reports. */
async function timeVelero(c: Context, mode: Mode, run: VeleroRun): Promise<VeleroResult> {
  const o = { kubeconfig: run.kubeconfig, storageEndpoint: c.storageEndpoint, keyFile: c.keyFile };
  const logFile = join(c.logDir, `${run.name}-server.log`);
  const server = await startVeleroServer(c.build, { ...o, fast: mode === 'fast', logFile });
  try {
    await run.before?.();
    const started = performance.now();
    await veleroCli(c.build, run.kubeconfig, run.args, veleroEnv(o));
    const s = seconds(performance.now() - started);
    const {
      phase,
      errors,
      progress: p,
    } = progress(getVeleroObject(run.kubeconfig, `${run.kind}s`, run.name));
    if (!run.phasesAccepted.includes(phase)) {
      throw new Error(`velero ${run.kind} ${run.name} ended ${phase}; see ${logFile}`);
    }
    const peaks = await server.stop();
    return {
      seconds: s,
      objects: p[run.objectsField] ?? 0,
      phase,
      errors,
      server_peak_rss_mb: peaks.server_mb,
      with_plugins_peak_rss_mb: peaks.with_plugins_mb,
    };
  } finally {
    await server.stop();
  }
}

function veleroBackup(c: Context, mode: Mode, name: string): Promise<VeleroResult> {
  return timeVelero(c, mode, {
    kind: 'backup',
    name,
    kubeconfig: c.source,
    args: ['backup', 'create', name, '--include-namespaces', c.namespaces.join(','), '--wait'],
    phasesAccepted: ['Completed'],
    objectsField: 'itemsBackedUp',
  });
}

async function waitForSyncedBackup(kubeconfig: string, name: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (!getVeleroObject(kubeconfig, 'backups', name)) {
    if (Date.now() > deadline) {
      throw new Error(`backup ${name} was not synced from the bucket into the target after 180s`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function veleroRestore(
  c: Context,
  mode: Mode,
  backup: string,
  name: string,
): Promise<VeleroResult> {
  const mappings = c.namespaces.map((ns, i) => `${ns}:${name}-${i}`).join(',');
  return timeVelero(c, mode, {
    kind: 'restore',
    name,
    kubeconfig: c.target,
    args: [
      'restore',
      'create',
      name,
      '--from-backup',
      backup,
      '--namespace-mappings',
      mappings,
      '--wait',
    ],
    phasesAccepted: ['Completed', 'PartiallyFailed'],
    objectsField: 'itemsRestored',
    before: () => waitForSyncedBackup(c.target, backup),
  });
}

interface Round {
  lifeboat_backup_s: number;
  lifeboat_backup_objects: number;
  lifeboat_backup_rss_mb: number;
  lifeboat_restore_s: number;
  lifeboat_restore_objects: number;
  lifeboat_restore_rss_mb: number;
  velero: Record<`${'backup' | 'restore'}_${Mode}`, VeleroResult>;
}

async function round(c: Context, n: number, id: string): Promise<Round> {
  const prefix = `velero-bench-${id}`;
  const backupId = `bench-${n}-${id}`;
  const lb = runWorker(exportWorker, [String(n), prefix, backupId]);
  emit({ event: 'lifeboat backup', round: id, ...lb });
  const lr = runWorker(restoreWorker, [String(n), prefix, backupId, id]);
  emit({ event: 'lifeboat restore', round: id, ...lr });
  const velero = {} as Round['velero'];
  for (const mode of MODES) {
    const name = `vb-${id}-${mode}`;
    velero[`backup_${mode}`] = await veleroBackup(c, mode, name);
    emit({ event: 'velero backup', round: id, mode, ...velero[`backup_${mode}`] });
  }
  for (const mode of MODES) {
    const name = `vr-${id}-${mode}`;
    velero[`restore_${mode}`] = await veleroRestore(c, mode, `vb-${id}-${mode}`, name);
    emit({ event: 'velero restore', round: id, mode, ...velero[`restore_${mode}`] });
  }
  return {
    lifeboat_backup_s: field(lb, 'export_s', 'export worker'),
    lifeboat_backup_objects: field(lb, 'objects', 'export worker'),
    lifeboat_backup_rss_mb: field(lb, 'peak_rss_mb', 'export worker'),
    lifeboat_restore_s: field(lr, 'restore_s', 'restore worker'),
    lifeboat_restore_objects: field(lr, 'restored', 'restore worker'),
    lifeboat_restore_rss_mb: field(lr, 'peak_rss_mb', 'restore worker'),
    velero,
  };
}

const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

export async function veleroBench(n: number, rounds: number): Promise<Record<string, unknown>> {
  const build = buildVelero();
  emit({ event: 'velero built', build_s: build.build_s, velero: build.velero });
  await ensureSeeded(n);
  const run = Date.now().toString(36);
  const storageEndpoint = required('LIFEBOAT_STORAGE_ENDPOINT');
  const c: Context = {
    build,
    source: required('LIFEBOAT_SOURCE_KUBECONFIG'),
    target: required('LIFEBOAT_TARGET_KUBECONFIG'),
    storageEndpoint,
    keyFile: dummyServiceAccountKey(),
    logDir: mkdtempSync(join(tmpdir(), 'lifeboat-velero-logs-')),
    namespaces: benchNamespaces(n),
  };
  await ensureVeleroBucket(storageEndpoint);
  // One location prefix per run, shared by both clusters: the target's server syncs the source's backups.
  prepareCluster(build, c.source, `run-${run}`);
  prepareCluster(build, c.target, `run-${run}`);
  emit({ event: 'velero installed', logs: c.logDir });

  // An empty selection (no bench-1-* namespace is ever seeded beside N > 1): Lifeboat's fixed cost.
  const empty = runWorker(exportWorker, ['1', `velero-bench-${run}-empty`, `bench-empty-${run}`]);
  const all: Round[] = [];
  for (let r = 0; r < rounds; r++) all.push(await round(c, n, `${run}-${r}`));

  const med = (pick: (x: Round) => number): number => median(all.map(pick));
  const max = (pick: (x: Round) => number): number => Math.max(...all.map(pick));
  const lifeboatBackupS = med((x) => x.lifeboat_backup_s);
  const lifeboatRestoreS = med((x) => x.lifeboat_restore_s);
  const veleroBackupS = med((x) => x.velero.backup_default.seconds);
  const veleroBackupFastS = med((x) => x.velero.backup_fast.seconds);
  const veleroRestoreS = med((x) => x.velero.restore_default.seconds);
  const veleroRestoreFastS = med((x) => x.velero.restore_fast.seconds);
  const lifeboatBackupRss = max((x) => x.lifeboat_backup_rss_mb);
  const lifeboatRestoreRss = max((x) => x.lifeboat_restore_rss_mb);
  const veleroBackupRss = max((x) =>
    Math.max(x.velero.backup_default.server_peak_rss_mb, x.velero.backup_fast.server_peak_rss_mb),
  );
  const veleroRestoreRss = max((x) =>
    Math.max(x.velero.restore_default.server_peak_rss_mb, x.velero.restore_fast.server_peak_rss_mb),
  );
  const last = all.at(-1) as Round;
  return {
    bench: 'velero',
    objects: n,
    rounds,
    velero_version: 'v1.18.3',
    velero_build_s: build.build_s,
    lifeboat_backup_s: lifeboatBackupS,
    velero_backup_s: veleroBackupS,
    velero_backup_fast_s: veleroBackupFastS,
    lifeboat_restore_s: lifeboatRestoreS,
    velero_restore_s: veleroRestoreS,
    velero_restore_fast_s: veleroRestoreFastS,
    backup_ratio: ratio(veleroBackupS, lifeboatBackupS),
    backup_fast_ratio: ratio(veleroBackupFastS, lifeboatBackupS),
    restore_ratio: ratio(veleroRestoreS, lifeboatRestoreS),
    restore_fast_ratio: ratio(veleroRestoreFastS, lifeboatRestoreS),
    lifeboat_backup_objects: last.lifeboat_backup_objects,
    velero_backup_objects: last.velero.backup_default.objects,
    velero_backup_fast_objects: last.velero.backup_fast.objects,
    lifeboat_restore_objects: last.lifeboat_restore_objects,
    velero_restore_objects: last.velero.restore_default.objects,
    velero_restore_fast_objects: last.velero.restore_fast.objects,
    velero_restore_errors: last.velero.restore_default.errors,
    lifeboat_peak_rss_mb: Math.max(lifeboatBackupRss, lifeboatRestoreRss),
    velero_peak_rss_mb: Math.max(veleroBackupRss, veleroRestoreRss),
    lifeboat_backup_peak_rss_mb: lifeboatBackupRss,
    velero_backup_peak_rss_mb: veleroBackupRss,
    lifeboat_restore_peak_rss_mb: lifeboatRestoreRss,
    velero_restore_peak_rss_mb: veleroRestoreRss,
    velero_with_plugins_peak_rss_mb: max((x) =>
      Math.max(...Object.values(x.velero).map((v) => v.with_plugins_peak_rss_mb)),
    ),
    lifeboat_empty_backup_rss_mb: field(empty, 'peak_rss_mb', 'export worker (empty)'),
    lifeboat_heap_limit_mb: WORKER_HEAP_MB,
    rss_ratio: ratio(
      Math.max(veleroBackupRss, veleroRestoreRss),
      Math.max(lifeboatBackupRss, lifeboatRestoreRss),
    ),
  };
}
