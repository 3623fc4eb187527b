import { readCatalog } from '../catalog/catalog-io.js';
import type { Catalog, PackEntry } from '../catalog/catalog-schema.js';
import { type ObjectRef, type PackRecord } from '../catalog/pack.js';
import { indexPack, type IndexedPack } from '../catalog/pack-index.js';
import { readPackBytes } from '../catalog/read-pack.js';
import { mapLimit } from '../concurrency.js';
import { NotFoundError } from '../errors.js';
import { qualifiedName } from '../kube/discovery.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';
import { HttpError } from './http-error.js';
import type { PackCache } from './pack-cache.js';

/** A backup's catalog; a missing one is a 404 naming it. */
export async function loadCatalog(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
): Promise<Catalog> {
  try {
    return await readCatalog(store, cluster, backupId);
  } catch (error) {
    if (error instanceof NotFoundError) throw new HttpError(404, error.message);
    throw error;
  }
}

/**
 * The given packs of one backup, indexed and verified as a restore verifies
 * them (every object's digest, each pack's digest). Only these packs are
 * read: a backup's page never reads another backup's packs, and the object
 * page only its resource's. Bodies are parsed only when asked for.
 */
export async function loadPacks(
  store: ObjectStore,
  catalog: Catalog,
  cache: PackCache | undefined,
  packs: readonly PackEntry[] = catalog.packs,
): Promise<IndexedPack[]> {
  return mapLimit(packs, 8, async (entry) => {
    const gzipped =
      cache?.get(entry.digest) ?? (await readPackBytes(store, catalog.backupId, entry));
    const indexed = indexPack(gzipped, entry.digest);
    cache?.set(entry.digest, gzipped);
    return indexed;
  });
}

/** One object of a listing: its ref, and its labels parsed from its body only when asked for. */
export interface ContentsEntry {
  ref: ObjectRef;
  sealed: boolean;
  labels(): Readonly<Record<string, string>> | undefined;
}

export function contentsEntries(packs: readonly IndexedPack[]): ContentsEntry[] {
  return packs.flatMap((pack) =>
    pack.refs.map((ref, i) => ({
      ref,
      sealed: pack.sealed(i),
      labels: () => (pack.sealed(i) ? undefined : pack.record(i).object?.metadata.labels),
    })),
  );
}

/** Which object the object page shows: its resource (qualified, e.g. deployments.apps), namespace and name. */
export interface ObjectKey {
  resource: string;
  namespace: string | undefined;
  name: string;
}

export const objectKeyOf = (ref: ObjectRef): ObjectKey => ({
  resource: qualifiedName(ref),
  namespace: ref.namespace,
  name: ref.name,
});

/** One object of a backup, reading only the packs of its resource; a 404 when it is not there. */
export async function loadRecord(
  store: ObjectStore,
  catalog: Catalog,
  cache: PackCache | undefined,
  key: ObjectKey,
): Promise<PackRecord> {
  const packs = catalog.packs.filter((p) => qualifiedName(p.resource) === key.resource);
  for (const pack of await loadPacks(store, catalog, cache, packs)) {
    const i = pack.refs.findIndex(
      (r) => r.name === key.name && (r.namespace ?? '') === (key.namespace ?? ''),
    );
    if (i >= 0) return pack.record(i);
  }
  const where = key.namespace ? `${key.namespace}/${key.name}` : key.name;
  throw new HttpError(404, `backup ${catalog.backupId} holds no ${key.resource} ${where}`);
}
