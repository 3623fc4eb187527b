import type { BackupDiff, DiffObject, FieldChange } from '../shared/catalog/backup-diff.js';
import { clusterLabel } from './find-backup.js';

/** Longest value shown in a table line; a longer one is cut with "…" (the JSON output has it whole). */
const VALUE_WIDTH = 60;

function side(diff: BackupDiff, which: 'from' | 'to'): string {
  const s = diff[which];
  const sameCluster = clusterLabel(diff.from.cluster) === clusterLabel(diff.to.cluster);
  return sameCluster ? s.backupId : `${s.backupId} (${clusterLabel(s.cluster)})`;
}

function objectName(o: DiffObject): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/** A value in one line: JSON, cut to VALUE_WIDTH; a description of a Secret's value as it is. */
export function shortValue(value: unknown, redacted: boolean): string {
  if (value === undefined) return '(none)';
  const text = redacted && typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > VALUE_WIDTH ? `${text.slice(0, VALUE_WIDTH - 1)}…` : text;
}

function fieldLine(f: FieldChange): string {
  const redacted = f.redacted === true;
  return `${f.path}: ${shortValue(f.before, redacted)} -> ${shortValue(f.after, redacted)}`;
}

/**
 * `backup diff` for people: a summary line, then one line per added,
 * removed and changed object, with a changed object's fields beneath it.
 */
export function formatDiff(diff: BackupDiff): string {
  const clusters =
    clusterLabel(diff.from.cluster) === clusterLabel(diff.to.cluster)
      ? ` of ${clusterLabel(diff.to.cluster)}`
      : '';
  const lines = [
    `${side(diff, 'from')} -> ${side(diff, 'to')}${clusters}: ` +
      `${diff.added.length} added, ${diff.removed.length} removed, ` +
      `${diff.changed.length} changed, ${diff.unchanged} unchanged`,
  ];
  for (const o of diff.added) lines.push(`ADDED     ${objectName(o)}`);
  for (const o of diff.removed) lines.push(`REMOVED   ${objectName(o)}`);
  for (const c of diff.changed) {
    const note = c.sealed ? ' (sealed Secret: pass --key-file to see which keys changed)' : '';
    lines.push(`CHANGED   ${objectName(c.object)}${note}`);
    for (const f of c.fields) lines.push(`            ${fieldLine(f)}`);
  }
  return lines.join('\n');
}
