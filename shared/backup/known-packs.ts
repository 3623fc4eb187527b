import { listCatalogs, readCatalog } from '../catalog/catalog-io.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';

/**
 * Packs the newest catalog of the cluster references: they are in the store
 * (retention never removes what a catalog needs), so an incremental backup
 * skips them without even asking the store.
 */
export async function knownPacks(store: ObjectStore, cluster: ClusterRef): Promise<Set<string>> {
  const ids = await listCatalogs(store, cluster);
  const latest = ids.sort().at(-1);
  if (!latest) return new Set();
  try {
    return new Set((await readCatalog(store, cluster, latest)).packs.map((p) => p.digest));
  } catch {
    return new Set(); // an unreadable catalog only costs re-uploads
  }
}
