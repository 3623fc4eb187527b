import { Layout } from '../shared/catalog/layout.js';
import { mapLimit } from '../shared/concurrency.js';
import { NotFoundError } from '../shared/errors.js';
import type { RestoreReport } from '../shared/restore/report.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { storeFrom } from './connect.js';
import { CliNotFoundError, ExitCode, oneLine } from './exit-codes.js';
import { clusterLabel } from './find-backup.js';
import type { OutputFormat } from './options.js';
import { emit, formatTable } from './output.js';
import { formatReport } from './restore-view.js';

export interface RestoreInspectFlags {
  store?: string;
  output: OutputFormat;
  details?: boolean;
}

async function readReport(store: ObjectStore, restoreId: string): Promise<RestoreReport> {
  let body: Buffer;
  try {
    body = await store.get(Layout.report(restoreId));
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const running = await store.exists(Layout.restoreProgress(restoreId));
    throw new CliNotFoundError(
      running
        ? `restore "${restoreId}" has no report yet in ${store.url}: it is still running`
        : `restore "${restoreId}" not found in ${store.url}`,
    );
  }
  try {
    return JSON.parse(body.toString('utf8')) as RestoreReport;
  } catch {
    throw new Error(`the report of restore "${restoreId}" in ${store.url} is not valid JSON`);
  }
}

interface RestoreRow {
  name: string;
  phase: string;
  backup?: string;
  source?: string;
  target?: string;
  dryRun?: boolean;
  counts?: RestoreReport['counts'];
  completedAt?: string;
  reason?: string;
}

async function restoreRow(store: ObjectStore, id: string, hasReport: boolean): Promise<RestoreRow> {
  if (!hasReport) return { name: id, phase: 'InProgress' };
  try {
    const r = await readReport(store, id);
    return {
      name: id,
      phase: r.phase,
      backup: r.backupId,
      source: clusterLabel(r.source),
      target: clusterLabel(r.target),
      dryRun: r.dryRun,
      counts: r.counts,
      completedAt: r.completedAt,
    };
  } catch (error) {
    return { name: id, phase: 'Invalid', reason: oneLine(error) };
  }
}

/** `restore get`: every restore in the store, from its report (InProgress while it has none). */
export async function getRestores(flags: RestoreInspectFlags): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const ids = new Map<string, boolean>();
  for await (const info of store.list('restores/')) {
    const m = /^restores\/([^/]+)\/(report|progress)\.json$/.exec(info.key);
    if (m?.[1]) ids.set(m[1], ids.get(m[1]) === true || m[2] === 'report');
  }
  const rows = await mapLimit([...ids], 8, ([id, hasReport]) => restoreRow(store, id, hasReport));
  emit(flags.output, { items: rows }, () =>
    formatTable(
      ['NAME', 'BACKUP', 'SOURCE', 'TARGET', 'PHASE', 'DRY-RUN', 'RESTORED', 'FAILED', 'COMPLETED'],
      rows.map((r) => [
        r.name,
        r.backup,
        r.source,
        r.target,
        r.phase,
        r.dryRun,
        r.counts && r.counts.restored + r.counts.replaced + r.counts['would-restore'],
        r.counts?.failed,
        r.completedAt,
      ]),
    ),
  );
  for (const r of rows.filter((r) => r.phase === 'Invalid')) {
    process.stderr.write(`lifeboat: restore "${r.name}": ${r.reason}\n`);
  }
  return rows.some((r) => r.phase === 'Invalid') ? ExitCode.NotFullSuccess : ExitCode.Ok;
}

/** `restore describe NAME`: the report; --details lists every object's outcome. */
export async function describeRestore(name: string, flags: RestoreInspectFlags): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const report = await readReport(store, name);
  emit(flags.output, report, () => formatReport(report, flags.details === true));
  return ExitCode.Ok;
}
