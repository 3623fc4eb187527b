import { readCatalog } from '../shared/catalog/catalog-io.js';
import { lastDrillOf } from '../shared/drill/drill-store.js';
import { mapLimit } from '../shared/concurrency.js';
import { loadBackup } from '../shared/catalog/load-backup.js';
import { backupSummary, formatDescribe } from './backup-view.js';
import { storeFrom } from './connect.js';
import { CliNotFoundError, ExitCode, oneLine } from './exit-codes.js';
import { clusterFlag, clusterLabel, findCatalog, scanBackups } from './find-backup.js';
import type { OutputFormat } from './options.js';
import { emit, formatTable } from './output.js';
import { rtoText } from './drill-view.js';

export interface BackupInspectFlags {
  store?: string;
  cluster?: string;
  output: OutputFormat;
  details?: boolean;
}

interface Row {
  name: string;
  cluster: string;
  phase: string;
  objects?: number;
  volumes?: number;
  errors?: number;
  warnings?: number;
  startedAt?: string;
  completedAt?: string;
  /** The backup's last restore drill: passed, failed, or none (never drilled). */
  drill?: 'passed' | 'failed' | 'none';
  drillRtoSeconds?: number;
  reason?: string;
}

/**
 * `backup get [NAME...]`: every backup of every cluster. A backup without a
 * catalog is Incomplete (running, or stopped before it finished); one whose
 * catalog fails verification is Invalid, and makes the exit status 1.
 */
export async function getBackups(names: string[], flags: BackupInspectFlags): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const cluster = clusterFlag(flags.cluster);
  const backups = (await scanBackups(store)).filter(
    (b) =>
      (names.length === 0 || names.includes(b.backupId)) &&
      (!cluster || clusterLabel(b.cluster) === clusterLabel(cluster)),
  );
  const missing = names.filter((n) => !backups.some((b) => b.backupId === n));
  if (missing.length > 0) {
    throw new CliNotFoundError(
      `backup ${missing.map((n) => `"${n}"`).join(', ')} not found in ${store.url}`,
    );
  }
  const rows = await mapLimit(backups, 8, async (b): Promise<Row> => {
    const base = { name: b.backupId, cluster: clusterLabel(b.cluster) };
    if (!b.hasCatalog) return { ...base, phase: 'Incomplete', reason: 'no catalog yet' };
    try {
      const c = await readCatalog(store, b.cluster, b.backupId);
      const drill = await lastDrillOf(store, b.cluster, b.backupId);
      return {
        ...base,
        phase: c.phase,
        objects: c.counts.objects,
        volumes: c.counts.volumes,
        errors: c.errors.length,
        warnings: c.warnings.length,
        startedAt: c.startedAt,
        completedAt: c.completedAt,
        drill: drill?.verdict ?? 'none',
        ...(drill?.rtoSeconds !== undefined ? { drillRtoSeconds: drill.rtoSeconds } : {}),
      };
    } catch (error) {
      return { ...base, phase: 'Invalid', reason: oneLine(error) };
    }
  });
  emit(flags.output, { items: rows }, () =>
    formatTable(
      [
        'NAME',
        'CLUSTER',
        'PHASE',
        'OBJECTS',
        'VOLUMES',
        'ERRORS',
        'WARNINGS',
        'COMPLETED',
        'DRILL',
        'RTO',
      ],
      rows.map((r) => [
        r.name,
        r.cluster,
        r.phase,
        r.objects,
        r.volumes,
        r.errors,
        r.warnings,
        r.completedAt,
        r.drill,
        r.drill === undefined ? undefined : rtoText(r.drillRtoSeconds),
      ]),
    ),
  );
  const invalid = rows.filter((r) => r.phase === 'Invalid');
  for (const r of invalid)
    process.stderr.write(`lifeboat: backup "${r.name}" of ${r.cluster}: ${r.reason}\n`);
  return invalid.length > 0 ? ExitCode.NotFullSuccess : ExitCode.Ok;
}

/** `backup describe NAME`: the catalog, and with --details every object (packs read and verified). */
export async function describeBackup(name: string, flags: BackupInspectFlags): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const cluster = clusterFlag(flags.cluster);
  const catalog = await findCatalog(store, name, cluster);
  const records = flags.details
    ? (await loadBackup(store, catalog.cluster, name)).records
    : undefined;
  const json = {
    ...catalog,
    catalogUrl: backupSummary(catalog, store.url).catalog,
    ...(records
      ? { objects: records.map((r) => ({ ...r.ref, sealed: r.sealed !== undefined })) }
      : {}),
  };
  emit(flags.output, json, () => formatDescribe(catalog, records));
  return ExitCode.Ok;
}
