import { mapLimit } from '../concurrency.js';
import type { Sealer } from '../crypto/sealer.js';
import { PermanentError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import { manifestOf, readVerifiedCatalog } from './load-backup.js';
import type { ObjectStore } from '../store/object-store.js';
import type { PackEntry } from './catalog-schema.js';
import { fieldChanges, type FieldChange } from './field-diff.js';
import { readPackRecords, type PackRecordAt } from './diff-packs.js';
import type { ObjectRef, PackRecord } from './pack.js';
import { secretFieldChanges } from './secret-field-diff.js';

export type { FieldChange } from './field-diff.js';

/** One of the two backups compared. */
export interface DiffSide {
  cluster: ClusterRef;
  backupId: string;
}

/** An object as the diff names it. */
export interface DiffObject {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ChangedObject {
  /** As the newer backup holds it. */
  object: DiffObject;
  fields: FieldChange[];
  /** A Secret that changed but could not be opened (no data key given): which fields is unknown. */
  sealed?: boolean;
}

export interface BackupDiff {
  from: DiffSide;
  to: DiffSide;
  added: DiffObject[];
  removed: DiffObject[];
  changed: ChangedObject[];
  unchanged: number;
  /** Packs found in both backups (skipped unread, their objects unchanged) and packs read. */
  packs: { shared: number; read: number };
}

export interface DiffOptions {
  /** The store's data key: changed Secrets are opened to say which keys changed (never their values). */
  sealer?: Sealer;
}

/** Packs read at once: each is held inflated while its resource is compared. */
const PACKS_AT_ONCE = 4;

/**
 * What changed from one backup to another: objects added, removed and
 * changed (field by field), by identity group/resource/namespace/name.
 * Both catalogs are verified first. Packs are content-addressed, so a pack
 * in both backups holds the same objects in both and is never read; the
 * others are read and verified, and objects compared by digest, parsing a
 * body only when the digests differ. Secret values never enter the diff.
 */
export async function diffBackups(
  store: ObjectStore,
  from: DiffSide,
  to: DiffSide,
  options: DiffOptions = {},
): Promise<BackupDiff> {
  const load = options.sealer ? { sealer: options.sealer } : {};
  const [older, newer] = await Promise.all([
    readVerifiedCatalog(store, from.cluster, from.backupId, load),
    readVerifiedCatalog(store, to.cluster, to.backupId, load),
  ]);
  const newerDigests = new Set(newer.catalog.packs.map((p) => p.digest));
  const olderDigests = new Set(older.catalog.packs.map((p) => p.digest));
  const shared = older.catalog.packs.filter((p) => newerDigests.has(p.digest));
  const diff: BackupDiff = {
    from: { cluster: from.cluster, backupId: from.backupId },
    to: { cluster: to.cluster, backupId: to.backupId },
    added: [],
    removed: [],
    changed: [],
    unchanged: shared.reduce((n, p) => n + p.objects, 0),
    packs: { shared: shared.length, read: 0 },
  };
  const groups = byResource(
    older.catalog.packs.filter((p) => !newerDigests.has(p.digest)),
    newer.catalog.packs.filter((p) => !olderDigests.has(p.digest)),
  );
  // One resource at a time per worker: an object never moves between resources, so each is compared alone.
  await mapLimit([...groups.values()], PACKS_AT_ONCE, async ({ olderPacks, newerPacks }) => {
    const [before, after] = await Promise.all([
      readPackRecords(store, olderPacks, older.catalog),
      readPackRecords(store, newerPacks, newer.catalog),
    ]);
    diff.packs.read += olderPacks.length + newerPacks.length;
    compareResource(before, after, diff, options.sealer);
  });
  diff.added.sort(byIdentity);
  diff.removed.sort(byIdentity);
  diff.changed.sort((a, b) => byIdentity(a.object, b.object));
  return diff;
}

function byResource(
  olderPacks: PackEntry[],
  newerPacks: PackEntry[],
): Map<string, { olderPacks: PackEntry[]; newerPacks: PackEntry[] }> {
  const groups = new Map<string, { olderPacks: PackEntry[]; newerPacks: PackEntry[] }>();
  const group = (p: PackEntry) => {
    const key = `${p.resource.group}/${p.resource.resource}`;
    const found = groups.get(key) ?? { olderPacks: [], newerPacks: [] };
    groups.set(key, found);
    return found;
  };
  for (const p of olderPacks) group(p).olderPacks.push(p);
  for (const p of newerPacks) group(p).newerPacks.push(p);
  return groups;
}

const identity = (ref: ObjectRef): string =>
  `${ref.group}/${ref.resource}/${ref.namespace ?? ''}/${ref.name}`;

function compareResource(
  before: PackRecordAt[],
  after: PackRecordAt[],
  diff: BackupDiff,
  sealer: Sealer | undefined,
): void {
  const older = new Map(before.map((r) => [identity(r.ref), r]));
  for (const current of after) {
    const key = identity(current.ref);
    const previous = older.get(key);
    older.delete(key);
    if (!previous) diff.added.push(diffObject(current.ref));
    else if (previous.ref.digest === current.ref.digest) diff.unchanged++;
    else {
      const change = changeOf(previous.record(), current.record(), sealer);
      if (change) diff.changed.push(change);
      else diff.unchanged++;
    }
  }
  for (const gone of older.values()) diff.removed.push(diffObject(gone.ref));
}

/** The change between two versions of an object; undefined when their manifests are equal after all. */
function changeOf(
  previous: PackRecord,
  current: PackRecord,
  sealer: Sealer | undefined,
): ChangedObject | undefined {
  const object = diffObject(current.ref);
  if (previous.sealed || current.sealed) {
    const openable = [previous.sealed, current.sealed].every(
      (s) => s === undefined || s.keyId === sealer?.keyId,
    );
    if (!sealer || !openable) return { object, fields: [], sealed: true };
    const fields = secretFieldChanges(manifestOf(previous, sealer), manifestOf(current, sealer));
    return fields.length > 0 ? { object, fields } : undefined;
  }
  if (!previous.object || !current.object) {
    throw new PermanentError(
      `Record ${object.kind} ${object.namespace ?? ''}/${object.name} has neither object nor sealed data`,
    );
  }
  const fields = fieldChanges(previous.object, current.object);
  return fields.length > 0 ? { object, fields } : undefined;
}

function diffObject(ref: ObjectRef): DiffObject {
  return {
    group: ref.group,
    version: ref.version,
    resource: ref.resource,
    kind: ref.kind,
    ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}),
    name: ref.name,
  };
}

/** Resource, namespace, name (group last, for resources of one name in two groups). */
function byIdentity(a: DiffObject, b: DiffObject): number {
  return (
    compareText(a.resource, b.resource) ||
    compareText(a.namespace ?? '', b.namespace ?? '') ||
    compareText(a.name, b.name) ||
    compareText(a.group, b.group)
  );
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
