import { readCatalog } from '../catalog/catalog-io.js';
import { classifyKey, Layout } from '../catalog/layout.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';

/**
 * The backup an incremental backup builds on: the catalog written last
 * (its object's update time), whatever policy wrote it. Found once, when
 * the backup is planned, and recorded in the plan.
 */
export async function previousBackupId(
  store: ObjectStore,
  cluster: ClusterRef,
): Promise<string | undefined> {
  let newest: { backupId: string; updated: number } | undefined;
  for await (const info of store.list(Layout.clusterBackups(cluster))) {
    const k = classifyKey(info.key);
    if (k.kind !== 'backup' || k.file !== 'catalog') continue;
    const updated = info.updated.getTime();
    if (
      !newest ||
      updated > newest.updated ||
      (updated === newest.updated && k.backupId > newest.backupId)
    )
      newest = { backupId: k.backupId, updated };
  }
  return newest?.backupId;
}

/**
 * Packs the previous catalog references, which the backup does not upload
 * again. They cannot vanish underneath it: the retention sweep counts the
 * packs of the catalog a running backup's plan names as referenced, and
 * holds pack collection when that catalog is gone. Reading the catalog at
 * each shard's start (not once at planning) means a shard that starts after
 * the catalog expired reuses nothing.
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
    return new Set(); // an unreadable or expired catalog only costs re-uploads
  }
}
