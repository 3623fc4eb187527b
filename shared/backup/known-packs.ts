import { listCatalogs, readCatalog } from '../catalog/catalog-io.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';

/** The backup an incremental backup builds on: found once, when the backup is planned. */
export async function previousBackupId(
  store: ObjectStore,
  cluster: ClusterRef,
): Promise<string | undefined> {
  return (await listCatalogs(store, cluster)).sort().at(-1);
}

/**
 * Packs the previous catalog references: they are in the store (retention
 * never removes what a catalog needs), so an incremental backup skips them
 * without even asking the store.
 */
export async function knownPacks(
  store: ObjectStore,
  cluster: ClusterRef,
  previous: string | undefined,
): Promise<Set<string>> {
  if (!previous) return new Set();
  try {
    return new Set((await readCatalog(store, cluster, previous)).packs.map((p) => p.digest));
  } catch {
    return new Set(); // an unreadable catalog only costs re-uploads
  }
}
