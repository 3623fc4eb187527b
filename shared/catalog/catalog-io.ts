import { mapLimit } from '../concurrency.js';
import { errorMessage, isRetryable, NotFoundError, PermanentError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';
import { CATALOG_FORMAT, catalogDigest, upgradeCatalog, WRITTEN_BY } from './catalog-format.js';
import type { Catalog } from './catalog-schema.js';
import { checkSeal, sealCatalog } from './catalog-seal.js';
import type { Sealer } from '../crypto/sealer.js';
import { Layout } from './layout.js';

/** What a writer supplies; the format, the writer and the digest are added by writeCatalog. */
export type UnsignedCatalog = Omit<Catalog, 'digest' | 'formatVersion' | 'writtenBy'>;

/**
 * Writes the catalog once, last: its presence means the backup finished.
 * The writer that created it seals it with the data key, when it has one.
 * Returns the catalog already there when another writer won the race.
 */
export async function writeCatalog(
  store: ObjectStore,
  unsigned: UnsignedCatalog,
  sealer?: Sealer,
): Promise<Catalog> {
  const stored = { ...unsigned, formatVersion: CATALOG_FORMAT, writtenBy: WRITTEN_BY };
  const catalog: Catalog = { ...stored, digest: catalogDigest(stored) };
  const key = Layout.catalog(unsigned.cluster, unsigned.backupId);
  const created = await store.createIfAbsent(key, JSON.stringify(catalog, null, 1));
  if (!created) return readCatalog(store, unsigned.cluster, unsigned.backupId);
  // A crash right here leaves the backup unauthenticated (never falsely sealed): `lifeboat catalog seal` mends it.
  if (sealer) await sealCatalog(store, sealer, catalog);
  return catalog;
}

/** Reads a catalog of any released format, checks its digest and upgrades it: a tampered one is refused here. */
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
  const catalog = upgradeCatalog(parsed, `Catalog ${key}`);
  // A catalog copied into another backup's folder must not stand for that backup (nor be deleted as it).
  if (
    catalog.backupId !== backupId ||
    Layout.clusterKey(catalog.cluster) !== Layout.clusterKey(cluster)
  ) {
    throw new PermanentError(
      `Catalog ${key} names backup ${catalog.backupId} of ${Layout.clusterKey(catalog.cluster)}: it is not where that backup's catalog belongs`,
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

/**
 * Backups ordered by when their data was taken (startedAt), then by when they finished: a backup
 * finished late (retention finishing an abandoned one) does not count as newer than its data.
 */
export const byDataTime = (a: Catalog, b: Catalog): number =>
  a.startedAt.localeCompare(b.startedAt) || a.completedAt.localeCompare(b.completedAt);

/** A catalog that could not be read, and why; retryable when trying again may help. */
export interface UnreadableCatalog {
  backupId: string;
  reason: string;
  retryable: boolean;
}

/**
 * Every catalog of a cluster, oldest first. One that cannot be read does not
 * fail the answer: it is returned in `unreadable` for the caller to report,
 * and anything that deletes must treat it as referencing everything.
 */
export async function readCatalogs(
  store: ObjectStore,
  cluster: ClusterRef,
  ids?: string[],
): Promise<{ catalogs: Catalog[]; unreadable: UnreadableCatalog[] }> {
  const catalogs: Catalog[] = [];
  const unreadable: UnreadableCatalog[] = [];
  await mapLimit(ids ?? (await listCatalogs(store, cluster)), 16, async (backupId) => {
    try {
      catalogs.push(await readCatalog(store, cluster, backupId));
    } catch (error) {
      unreadable.push({ backupId, reason: errorMessage(error), retryable: isRetryable(error) });
    }
  });
  catalogs.sort(byDataTime);
  unreadable.sort((a, b) => a.backupId.localeCompare(b.backupId));
  return { catalogs, unreadable };
}

/**
 * The newest Completed catalog of a cluster, if any, and the catalogs
 * skipped as unreadable. With `authenticatedOnly`, the newest one whose
 * seal verifies with `sealer`: what automatic restores may use; the others
 * are skipped and named.
 */
export async function latestGoodCatalog(
  store: ObjectStore,
  cluster: ClusterRef,
  options: { sealer?: Sealer | undefined; authenticatedOnly?: boolean } = {},
): Promise<{ catalog: Catalog | undefined; unreadable: UnreadableCatalog[] }> {
  const { catalogs, unreadable } = await readCatalogs(store, cluster);
  const good = catalogs.filter((c) => c.phase === 'Completed');
  if (!options.authenticatedOnly) return { catalog: good.at(-1), unreadable };
  for (const catalog of good.reverse()) {
    try {
      const authenticity = await checkSeal(store, catalog, options.sealer);
      if (authenticity === 'authenticated') return { catalog, unreadable };
      unreadable.push({
        backupId: catalog.backupId,
        reason: `${authenticity}: not sealed with the data key`,
        retryable: false,
      });
    } catch (error) {
      unreadable.push({
        backupId: catalog.backupId,
        reason: errorMessage(error),
        retryable: isRetryable(error),
      });
    }
  }
  return { catalog: undefined, unreadable };
}
