import { createHash } from 'node:crypto';

/**
 * Names of the cloud resources Lifeboat creates. They are derived, never
 * random: Pub/Sub delivers at least once, and a redelivered message must find
 * the snapshot or disk the first delivery made instead of making another.
 */

/** Compute Engine (and Kubernetes DNS-label) names: RFC 1035, at most 63 characters. */
export const MAX_NAME_LENGTH = 63;
const RFC1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HASH_LENGTH = 8;

export function isRfc1035Name(name: string): boolean {
  return RFC1035.test(name);
}

function shortHash(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, HASH_LENGTH);
}

/** Lower-cases and replaces anything outside [a-z0-9-] so the result can sit inside a name. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * `<prefix>-<readable parts>-<hash>`. The hash is of the full identity, not of
 * the readable part, and is always present: two disks may share a name in
 * different zones or projects, and truncation may make two long names equal,
 * yet neither may ever share a snapshot.
 */
export function derivedName(prefix: string, parts: string[], identity: string): string {
  if (!/^[a-z][a-z0-9]*$/.test(prefix)) throw new Error(`Invalid name prefix "${prefix}"`);
  const budget = MAX_NAME_LENGTH - prefix.length - HASH_LENGTH - 2;
  const readable = slug(parts.join('-')).slice(0, budget).replace(/-+$/, '');
  const name = [prefix, readable, shortHash(identity)].filter((p) => p !== '').join('-');
  return name;
}

/** The full path of a disk, the identity its derived names hash. */
export function diskPath(disk: {
  project: string;
  name: string;
  zone?: string;
  region?: string;
}): string {
  const location = disk.zone ? `zones/${disk.zone}` : `regions/${disk.region ?? ''}`;
  return `projects/${disk.project}/${location}/disks/${disk.name}`;
}

/** The snapshot of `disk` taken by backup `backupId`. */
export function snapshotNameFor(
  backupId: string,
  disk: { project: string; name: string; zone?: string; region?: string },
): string {
  return derivedName('lb', [backupId, disk.name], `${backupId}/${diskPath(disk)}`);
}

/** The disk restore `restoreId` makes from the snapshot of `sourceDisk`. */
export function restoredDiskNameFor(
  restoreId: string,
  sourceDisk: { project: string; name: string; zone?: string; region?: string },
): string {
  return derivedName('lbr', [restoreId, sourceDisk.name], `${restoreId}/${diskPath(sourceDisk)}`);
}

/** A CSI VolumeSnapshot of one PVC for one backup. */
export function volumeSnapshotNameFor(
  backupId: string,
  namespace: string,
  pvcName: string,
): string {
  return derivedName('lb', [backupId, pvcName], `${backupId}/${namespace}/${pvcName}`);
}

/**
 * A Compute Engine label value: lower-case letters, digits, `_` and `-`, at
 * most 63 characters. Kubernetes names may hold `.` and run to 253
 * characters; a value that had to be shortened keeps a hash so it stays
 * distinct.
 */
export function labelValue(text: string): string {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  if (cleaned.length <= MAX_NAME_LENGTH) return cleaned;
  return `${cleaned.slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1)}-${shortHash(text)}`;
}
