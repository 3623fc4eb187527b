import type { Catalog } from '../catalog/catalog-schema.js';
import { readCatalog } from '../catalog/catalog-io.js';
import { Layout } from '../catalog/layout.js';
import { decodePack, type PackRecord } from '../catalog/pack.js';
import { mapLimit } from '../concurrency.js';
import type { Sealer } from '../crypto/sealer.js';
import { NotFoundError, PermanentError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { ObjectStore } from '../store/object-store.js';

export interface LoadedBackup {
  catalog: Catalog;
  records: PackRecord[];
}

/**
 * Reads a catalog and every pack it lists, verifying the catalog's digest,
 * each pack's digest and each object's digest. Any missing or modified
 * piece is refused here, before anything touches a cluster.
 */
export async function loadBackup(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
): Promise<LoadedBackup> {
  const catalog = await readCatalog(store, cluster, backupId);
  const packs = await mapLimit(catalog.packs, 8, async (entry) => {
    let gz: Buffer;
    try {
      gz = await store.get(Layout.pack(entry.digest));
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new PermanentError(
          `Backup ${backupId} is incomplete: pack ${entry.digest} (${entry.shardId}) is missing from ${store.url}`,
        );
      }
      throw error;
    }
    const { records } = decodePack(gz, entry.digest);
    if (records.length !== entry.objects) {
      throw new PermanentError(
        `Pack ${entry.digest} holds ${records.length} objects; the catalog says ${entry.objects}`,
      );
    }
    return records;
  });
  const records = packs.flat();
  if (records.length !== catalog.counts.objects) {
    throw new PermanentError(
      `Backup ${backupId} lists ${catalog.counts.objects} objects but its packs hold ${records.length}`,
    );
  }
  return { catalog, records };
}

/** The manifest of a record, opening sealed Secrets with the store's data key. */
export function manifestOf(record: PackRecord, sealer: Sealer | undefined): KubeObject {
  if (record.object) return structuredClone(record.object);
  if (!record.sealed)
    throw new PermanentError(`Record ${record.ref.name} has neither object nor sealed data`);
  if (!sealer) {
    throw new PermanentError(
      `Secret ${record.ref.namespace}/${record.ref.name} is encrypted; pass the key file (LIFEBOAT_KEY_FILE) to restore it`,
    );
  }
  return JSON.parse(sealer.open(record.sealed).toString('utf8')) as KubeObject;
}
