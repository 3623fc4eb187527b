import type { Catalog } from './catalog-schema.js';
import { readCatalog } from './catalog-io.js';
import { checkSeal, type Authenticity } from './catalog-seal.js';
import { Layout } from './layout.js';
import { decodePack, type PackRecord } from './pack.js';
import { isSecretRef, readPackBytes } from './read-pack.js';
import { mapLimit } from '../concurrency.js';
import { secretIdentity, type Sealer } from '../crypto/sealer.js';
import { PermanentError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { ObjectStore } from '../store/object-store.js';

export interface LoadedBackup {
  catalog: Catalog;
  records: PackRecord[];
  /** Whether the catalog's seal was checked with the data key (see catalog-seal.ts). */
  authenticity: Authenticity;
}

export interface LoadOptions {
  /** The store's data key: with it, a catalog's seal is verified, and a forged one refused. */
  sealer?: Sealer;
  /** Refuse a backup whose catalog is not sealed with the data key (automatic restores). */
  requireAuthenticated?: boolean;
}

/**
 * Reads a catalog, verifying its digest and (with the data key) its seal;
 * refuses one that is not authenticated when that is required. What a
 * restore checks before it reads any pack.
 */
export async function readVerifiedCatalog(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  options: LoadOptions = {},
): Promise<{ catalog: Catalog; authenticity: Authenticity }> {
  const catalog = await readCatalog(store, cluster, backupId);
  const authenticity = await checkSeal(store, catalog, options.sealer);
  if (options.requireAuthenticated && authenticity !== 'authenticated') {
    throw new PermanentError(
      `Backup ${backupId} of ${Layout.clusterKey(cluster)} is ${authenticity}: only a catalog sealed with the data key is restored automatically (lifeboat catalog seal authenticates an older one)`,
    );
  }
  return { catalog, authenticity };
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
  options: LoadOptions = {},
): Promise<LoadedBackup> {
  const { catalog, authenticity } = await readVerifiedCatalog(store, cluster, backupId, options);
  const packs = await mapLimit(catalog.packs, 8, async (entry) => {
    const gz = await readPackBytes(store, backupId, entry);
    const { records } = decodePack(gz, entry.digest);
    if (records.length !== entry.objects) {
      throw new PermanentError(
        `Pack ${entry.digest} holds ${records.length} objects; the catalog says ${entry.objects}`,
      );
    }
    return records;
  });
  const records = packs.flat();
  const plain = records.find((r) => isSecretRef(r.ref) && !r.sealed);
  if (plain) {
    throw new PermanentError(
      `Backup ${backupId} holds Secret ${plain.ref.namespace ?? ''}/${plain.ref.name} unsealed: Lifeboat never writes one, so the backup was tampered with`,
    );
  }
  if (records.length !== catalog.counts.objects) {
    throw new PermanentError(
      `Backup ${backupId} lists ${catalog.counts.objects} objects but its packs hold ${records.length}`,
    );
  }
  return { catalog, records, authenticity };
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
  const { namespace, name } = record.ref;
  const secret = JSON.parse(
    sealer.open(record.sealed, secretIdentity(namespace, name)).toString('utf8'),
  ) as KubeObject;
  // Payloads sealed before they were bound to their Secret: the identity inside must still match.
  if (secret.metadata.name !== name || secret.metadata.namespace !== namespace) {
    throw new PermanentError(
      `The sealed Secret ${namespace}/${name} holds Secret ${secret.metadata.namespace}/${secret.metadata.name}: it was moved from another record`,
    );
  }
  return secret;
}
