import type { RestoreReport } from '../shared/restore/report.js';
import { clusterLabel } from './find-backup.js';
import { formatDuration, formatFields, formatTable, section } from './output.js';

/** `restored 20, skipped 3`: the non-zero counts of a report. */
export function countsText(counts: Record<string, number>): string {
  const shown = Object.entries(counts).filter(([, n]) => n > 0);
  return shown.length ? shown.map(([k, n]) => `${k} ${n}`).join(', ') : 'none';
}

/** A restore report for people: what was restored, and each object that was not and why. */
export function formatReport(report: RestoreReport, all = false): string {
  const attention = report.outcomes.filter(
    (o) => all || o.outcome === 'failed' || o.outcome === 'would-conflict',
  );
  const fields = formatFields([
    ['Name', report.restoreId],
    ['Backup', `${report.backupId} (${clusterLabel(report.source)})`],
    ['Target', clusterLabel(report.target)],
    ['Phase', report.phase],
    ['Dry run', String(report.dryRun)],
    ['Objects', countsText(report.counts)],
    ['Started', report.startedAt],
    ['Completed', report.completedAt],
    ['Duration', formatDuration(report.startedAt, report.completedAt)],
  ]);
  const volumes = report.volumes.length
    ? section(
        'Volumes',
        formatTable(
          ['PV', 'OUTCOME', 'DISK', 'REASON'],
          report.volumes.map((v) => [v.pvName, v.outcome, v.disk, v.reason]),
        ),
      )
    : '';
  const objects = attention.length
    ? section(
        all ? 'Objects' : 'Objects needing attention',
        formatTable(
          ['RESOURCE', 'NAMESPACE', 'NAME', 'OUTCOME', 'REASON'],
          attention.map((o) => [o.resource, o.namespace, o.name, o.outcome, o.reason]),
        ),
      )
    : '';
  const errors = report.errors.length ? section('Errors', report.errors) : '';
  return fields + volumes + errors + objects;
}
