import { NotFoundError, PermanentError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';
import { validate } from '../validate.js';
import { canonicalJson, sha256 } from './canonical.js';
import { Catalog } from './catalog-schema.js';
import { Layout } from './layout.js';

export type UnsignedCatalog = Omit<Catalog, 'digest'>;

export function catalogDigest(catalog: UnsignedCatalog): string {
  return sha256(canonicalJson(catalog));
}

/**
 * Writes the catalog once, last: its presence means the backup finished.
 * Returns the catalog already there when another writer won the race.
 */
export async function writeCatalog(
  store: ObjectStore,
  unsigned: UnsignedCatalog,
): Promise<Catalog> {
  const catalog: Catalog = { ...unsigned, digest: catalogDigest(unsigned) };
  const key = Layout.catalog(unsigned.cluster, unsigned.backupId);
  const created = await store.createIfAbsent(key, JSON.stringify(catalog, null, 1));
  return created ? catalog : readCatalog(store, unsigned.cluster, unsigned.backupId);
}

/** Reads, validates and checks the digest of a catalog: a tampered one is refused here. */
export async function readCatalog(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
): Promise<Catalog> {
  const key = Layout.catalog(cluster, backupId);
  let text: string;
  try {
    text = (await store.get(key)).toString('utf8');
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new NotFoundError(
        `Backup "${backupId}" of cluster ${Layout.clusterKey(cluster)} has no catalog in ${store.url} (missing or not finished)`,
      );
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PermanentError(`Catalog ${key} is not valid JSON: refusing to restore from it`);
  }
  const catalog = validate(Catalog, parsed, `catalog ${key}`);
  const { digest, ...unsigned } = catalog;
  const actual = catalogDigest(unsigned);
  if (actual !== digest) {
    throw new PermanentError(
      `Catalog ${key} does not match its digest (expected ${digest}, got ${actual}): it was modified after the backup`,
    );
  }
  return catalog;
}

/** Backup ids of a cluster that have a catalog, oldest first (ids sort by time). */
export async function listCatalogs(store: ObjectStore, cluster: ClusterRef): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of store.list(Layout.clusterBackups(cluster))) {
    const m = /\/([^/]+)\/catalog\.json$/.exec(info.key);
    if (m?.[1]) ids.push(m[1]);
  }
  return ids;
}

/** Every cluster that has backups in the store. */
export async function listClusterKeys(store: ObjectStore): Promise<string[]> {
  const keys = new Set<string>();
  for await (const info of store.list('backups/')) {
    const m = /^backups\/([^/]+)\/[^/]+\/catalog\.json$/.exec(info.key);
    if (m?.[1]) keys.add(m[1]);
  }
  return [...keys].sort();
}

/** The newest catalog of a cluster whose phase is Completed, if any. */
export async function latestGoodCatalog(
  store: ObjectStore,
  cluster: ClusterRef,
): Promise<Catalog | undefined> {
  const catalogs = await Promise.all(
    (await listCatalogs(store, cluster)).map((id) => readCatalog(store, cluster, id)),
  );
  return catalogs
    .filter((c) => c.phase === 'Completed')
    .sort((a, b) => a.completedAt.localeCompare(b.completedAt))
    .at(-1);
}
