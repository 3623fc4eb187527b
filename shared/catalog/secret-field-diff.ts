import { fieldChanges, type FieldChange } from './field-diff.js';

/**
 * Paths of a Secret that cannot hold any part of its value, shown as they
 * are. Everything else is described, never shown: data and stringData
 * obviously, and annotations too, since kubectl's last-applied-configuration
 * annotation carries a copy of the data.
 */
const SHOWN = [
  /^\/type$/,
  /^\/immutable$/,
  /^\/metadata\/labels(\/|$)/,
  /^\/metadata\/finalizers(\/|$)/,
  /^\/metadata\/ownerReferences(\/|$)/,
];

/** A single data entry: base64 in the manifest, so its size is that of the decoded bytes. */
const DATA_ENTRY = /^\/data\/[^/]+$/;

/** What a value is, without what it says: "(12 bytes)", "(3 keys)". */
export function describeSecretValue(path: string, value: unknown): string {
  if (typeof value === 'string') {
    const bytes = DATA_ENTRY.test(path)
      ? Buffer.from(value, 'base64').length
      : Buffer.byteLength(value, 'utf8');
    return `(${bytes} bytes)`;
  }
  if (Array.isArray(value)) return `(${value.length} items)`;
  if (value === null) return '(null)';
  if (typeof value === 'object') return `(${Object.keys(value).length} keys)`;
  return `(a ${typeof value})`;
}

function redact(change: FieldChange): FieldChange {
  if (SHOWN.some((p) => p.test(change.path))) return change;
  return {
    op: change.op,
    path: change.path,
    ...(change.op !== 'add' ? { before: describeSecretValue(change.path, change.before) } : {}),
    ...(change.op !== 'remove' ? { after: describeSecretValue(change.path, change.after) } : {}),
    redacted: true,
  };
}

/**
 * The changed paths of two opened Secrets (/data/password), each value
 * replaced by a description of it: which keys changed and their sizes, never
 * what they hold.
 */
export function secretFieldChanges(before: object, after: object): FieldChange[] {
  return fieldChanges(before, after).map(redact);
}
