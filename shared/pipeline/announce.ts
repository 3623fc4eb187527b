import { emitCatalog } from '../backup/emit-catalog.js';
import { readPlan } from '../backup/parts.js';
import { Layout } from '../catalog/layout.js';
import { API_VERSION, type BackupCompleted, type ClusterRef } from '../messages/index.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Sealer } from '../crypto/sealer.js';
import { readCatalog } from '../catalog/catalog-io.js';

/**
 * The BackupCompleted message to publish, when the catalog is (now) written
 * and its completion has not been announced yet; undefined otherwise. A
 * crash between writing the catalog and announcing it is repaired by the
 * next delivery; concurrent deliveries may both announce, which consumers
 * tolerate as they tolerate any Pub/Sub redelivery.
 */
export async function announceBackup(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  sealing?: { sealer: Sealer; encryption: { keyId: string; wrappedBy: string } },
): Promise<BackupCompleted | undefined> {
  if (await store.exists(Layout.announced(cluster, backupId))) return undefined;
  let catalog;
  if (await store.exists(Layout.catalog(cluster, backupId))) {
    catalog = await readCatalog(store, cluster, backupId);
  } else {
    const policy = (await readPlan(store, cluster, backupId)).policy;
    const result = await emitCatalog(
      store,
      cluster,
      backupId,
      policy,
      sealing ? { encryption: sealing.encryption, sealer: sealing.sealer } : {},
    );
    if (result.status === 'waiting') return undefined;
    catalog = result.catalog;
  }
  return {
    apiVersion: API_VERSION,
    kind: 'BackupCompleted',
    backupId,
    cluster,
    phase: catalog.phase,
    catalogKey: Layout.catalog(cluster, backupId),
    counts: { ...catalog.counts },
    errors: catalog.errors,
  };
}
