import { readCatalogs } from '../catalog/catalog-io.js';
import type { Catalog } from '../catalog/catalog-schema.js';
import { Layout } from '../catalog/layout.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';

/**
 * The newest Completed backup of a cluster that a drill may drill: taken
 * under one of `policies` (any, when absent) and not being expired by
 * retention. Undefined when there is none.
 */
export async function latestDrillableBackup(
  store: ObjectStore,
  cluster: ClusterRef,
  policies?: readonly string[],
): Promise<Catalog | undefined> {
  const { catalogs } = await readCatalogs(store, cluster);
  for (const catalog of [...catalogs].reverse()) {
    if (catalog.phase !== 'Completed') continue;
    if (policies && !policies.includes(catalog.policy.name)) continue;
    if (await store.exists(Layout.expiring(cluster, catalog.backupId))) continue;
    return catalog;
  }
  return undefined;
}
