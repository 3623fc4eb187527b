import { emitCatalog } from '../backup/emit-catalog.js';
import type { PartsReader } from '../backup/parts-reader.js';
import { backupCompletedOf } from '../backup/backup-completed.js';
import { Layout } from '../catalog/layout.js';
import type { BackupCompleted, ClusterRef } from '../messages/index.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Sealer } from '../crypto/sealer.js';
import { readCatalog } from '../catalog/catalog-io.js';

/**
 * Writes a backup's catalog once every part has reported in, and returns
 * the BackupCompleted message to publish when the catalog is (now) written
 * and its completion has not been announced yet; undefined otherwise. A
 * crash between writing the catalog and announcing it is repaired by the
 * next delivery; announceOnce (announce-once.ts) publishes it once.
 */
export async function writeCatalogIfComplete(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  sealing?: { sealer: Sealer; encryption: { keyId: string; wrappedBy: string } },
  reader?: PartsReader,
): Promise<BackupCompleted | undefined> {
  if (await store.exists(Layout.announced(cluster, backupId))) return undefined;
  let catalog;
  if (await store.exists(Layout.catalog(cluster, backupId))) {
    catalog = await readCatalog(store, cluster, backupId);
  } else {
    const result = await emitCatalog(store, cluster, backupId, undefined, {
      ...(sealing ? { encryption: sealing.encryption, sealer: sealing.sealer } : {}),
      ...(reader ? { reader } : {}),
    });
    if (result.status === 'waiting') return undefined;
    catalog = result.catalog;
  }
  return backupCompletedOf(catalog);
}
