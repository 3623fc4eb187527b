import type { Catalog } from '../shared/catalog/catalog-schema.js';
import { readCatalog } from '../shared/catalog/catalog-io.js';
import { Layout } from '../shared/catalog/layout.js';
import type { ClusterRef } from '../shared/messages/common.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { CliNotFoundError, UsageError } from './exit-codes.js';
import { parseClusterRef } from './options.js';

/** A backup as the store shows it: finished (it has a catalog) or not (only its parts). */
export interface StoredBackup {
  cluster: ClusterRef;
  backupId: string;
  hasCatalog: boolean;
}

export const clusterLabel = (c: ClusterRef): string => `${c.project}/${c.location}/${c.name}`;

/** Every backup in the store, of every cluster, in key order (cluster, then id). */
export async function scanBackups(store: ObjectStore): Promise<StoredBackup[]> {
  const found = new Map<string, StoredBackup>();
  for await (const info of store.list('backups/')) {
    const m = /^backups\/([^/]+)\/([^/]+)\/(.*)$/.exec(info.key);
    const cluster = m?.[1] ? Layout.parseClusterKey(m[1]) : undefined;
    if (!m?.[2] || !cluster) continue;
    const id = `${m[1]}/${m[2]}`;
    const entry = found.get(id) ?? { cluster, backupId: m[2], hasCatalog: false };
    if (m[3] === 'catalog.json') entry.hasCatalog = true;
    found.set(id, entry);
  }
  return [...found.values()];
}

/** --cluster of a command that finds a backup by name: which cluster's, when several have it. */
export function clusterFlag(value: string | undefined): ClusterRef | undefined {
  return value ? parseClusterRef(value, '--cluster') : undefined;
}

/**
 * Finds a backup by id across clusters. Scheduled backups of several
 * clusters share an id, so `cluster` disambiguates; without it, an id
 * found for more than one cluster is a usage error listing them.
 */
export async function findBackup(
  store: ObjectStore,
  backupId: string,
  cluster?: ClusterRef,
): Promise<StoredBackup> {
  const matches = (await scanBackups(store)).filter(
    (b) =>
      b.backupId === backupId &&
      (!cluster || Layout.clusterKey(b.cluster) === Layout.clusterKey(cluster)),
  );
  const where = cluster ? ` of cluster ${clusterLabel(cluster)}` : '';
  if (matches.length === 0) {
    throw new CliNotFoundError(`backup "${backupId}"${where} not found in ${store.url}`);
  }
  if (matches.length > 1) {
    const clusters = matches.map((b) => clusterLabel(b.cluster)).join(', ');
    throw new UsageError(
      `backup "${backupId}" exists for ${matches.length} clusters (${clusters}): pass --cluster PROJECT/LOCATION/NAME`,
    );
  }
  return matches[0]!;
}

/** The verified catalog of a finished backup; an unfinished one is "not found" (exit 3). */
export async function findCatalog(
  store: ObjectStore,
  backupId: string,
  cluster?: ClusterRef,
): Promise<Catalog> {
  const backup = await findBackup(store, backupId, cluster);
  if (!backup.hasCatalog) {
    throw new CliNotFoundError(
      `backup "${backupId}" of cluster ${clusterLabel(backup.cluster)} has no catalog in ${store.url}: it is still running or did not finish (see: lifeboat backup logs ${backupId})`,
    );
  }
  return readCatalog(store, backup.cluster, backupId);
}
