import type { DrillReport } from '../shared/messages/drill.js';
import { clusterLabel } from './find-backup.js';
import { formatFields, formatTable, section } from './output.js';

/** `12.5s`, or `-` when a drill never verified. */
export const rtoText = (seconds: number | undefined): string =>
  seconds === undefined ? '-' : `${seconds}s`;

type DrillOutcome = Pick<
  DrillReport,
  'drillId' | 'policy' | 'backupId' | 'source' | 'drillCluster' | 'verdict' | 'rtoSeconds'
>;

/** The fields a drill's report and its DrillCompleted message both start with. */
export function drillFields(d: DrillOutcome): [string, string][] {
  return [
    ['Name', d.drillId],
    ['Policy', d.policy],
    ['Backup', `${d.backupId ?? '(none found)'} (${clusterLabel(d.source)})`],
    ['Drill cluster', clusterLabel(d.drillCluster)],
    ['Verdict', d.verdict],
    ['RTO', rtoText(d.rtoSeconds)],
  ];
}

/** The rows of `drill get`. */
export function formatDrillList(reports: DrillReport[]): string {
  return formatTable(
    ['NAME', 'CLUSTER', 'BACKUP', 'DRILL CLUSTER', 'VERDICT', 'RTO', 'COMPLETED'],
    reports.map((r) => [
      r.drillId,
      clusterLabel(r.source),
      r.backupId ?? '-',
      clusterLabel(r.drillCluster),
      r.verdict,
      rtoText(r.rtoSeconds),
      r.completedAt,
    ]),
  );
}

/** A drill report for people: the verdict and why, what was compared, the volumes, the cleanup. */
export function formatDrillReport(r: DrillReport): string {
  const fields = formatFields([
    ...drillFields(r),
    ['Requested', r.requestedAt],
    ['Verified', r.verifiedAt],
    ['Completed', r.completedAt],
    ['Restore', r.restorePhase ? `${r.restoreId} (${r.restorePhase})` : r.restoreId],
    [
      'Objects',
      `${r.objects.equal}/${r.objects.compared} equal to the catalog` +
        (r.objects.comparedInPlace ? `, ${r.objects.comparedInPlace} compared in place` : ''),
    ],
    [
      'Cleanup',
      `${r.cleanup.objectsDeleted} objects and ${r.cleanup.disksDeleted} disks deleted` +
        (r.leftBehind.length ? `, ${r.leftBehind.length} left behind` : ', nothing left behind'),
    ],
  ]);
  const namespaces = Object.entries(r.namespaces);
  return [
    fields,
    r.reasons.length ? section('Reasons', r.reasons) : '',
    namespaces.length
      ? section(
          'Namespaces',
          formatTable(
            ['SOURCE', 'DRILLED AS'],
            namespaces.map(([from, to]) => [from, to]),
          ),
        )
      : '',
    r.volumes.length
      ? section(
          'Volumes',
          formatTable(
            ['PV', 'CLAIM', 'BOUND', 'DISK', 'DETAIL'],
            r.volumes.map((v) => [v.pvName, v.claim, v.bound, v.disk, v.detail]),
          ),
        )
      : '',
    r.objects.mismatches.length
      ? section(
          'Objects not as the catalog says',
          formatTable(
            ['RESOURCE', 'NAMESPACE', 'NAME', 'PROBLEM', 'DETAIL'],
            r.objects.mismatches.map((m) => [m.resource, m.namespace, m.name, m.problem, m.detail]),
          ),
        )
      : '',
    r.leftBehind.length ? section('Left behind', r.leftBehind) : '',
  ].join('');
}
