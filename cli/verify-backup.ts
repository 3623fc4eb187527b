import { readCatalog } from '../shared/catalog/catalog-io.js';
import type { Catalog } from '../shared/catalog/catalog-schema.js';
import type { Authenticity } from '../shared/catalog/catalog-seal.js';
import type { Sealer } from '../shared/crypto/sealer.js';
import { errorMessage, PermanentError } from '../shared/errors.js';
import type { ClusterRef } from '../shared/messages/common.js';
import { loadBackup, manifestOf } from '../shared/catalog/load-backup.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { sealerForBackup, type KeySource } from './connect.js';

export interface VerifiedBackup {
  catalog: Catalog;
  objects: number;
  packs: number;
  /** Sealed Secrets in the backup, and how many were opened (all of them, or none without a key). */
  secrets: { sealed: number; opened: number };
  /** Whether the catalog's seal was verified with the key (forged seals are refused). */
  authenticity: Authenticity;
  /** The data key, when a key was given: what `catalog seal` seals with. */
  sealer?: Sealer;
}

/**
 * Everything a restore would check, without a cluster: the catalog's
 * digest, every pack present and matching its digest, every object's
 * digest, and that the catalog lies in its own backup's folder
 * (loadBackup); with a key (file or Cloud KMS), every sealed Secret opened.
 * Throws the first problem found; a key that is not this backup's key is
 * a UsageError (from sealerForBackup).
 */
export async function verifyBackup(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  key: KeySource | undefined,
): Promise<VerifiedBackup> {
  const { encryption } = await readCatalog(store, cluster, backupId);
  // Checked even without sealed Secrets: a restore with this key would refuse the same way.
  const sealer = key ? await sealerForBackup(store, key, encryption) : undefined;
  const { catalog, records, authenticity } = await loadBackup(store, cluster, backupId, {
    ...(sealer ? { sealer } : {}),
  });
  const sealed = records.filter((r) => r.sealed);
  let opened = 0;
  if (key) {
    if (!sealer && sealed.length > 0) {
      throw new PermanentError(
        `${sealed.length} Secrets are sealed, but the catalog names no key that sealed them`,
      );
    }
    for (const record of sealed) {
      try {
        manifestOf(record, sealer);
      } catch (error) {
        const { namespace, name } = record.ref;
        throw new PermanentError(
          `Secret ${namespace ? `${namespace}/` : ''}${name} does not open with the key: ${errorMessage(error)}`,
        );
      }
      opened++;
    }
  }
  return {
    catalog,
    objects: records.length,
    packs: catalog.packs.length,
    secrets: { sealed: sealed.length, opened },
    authenticity,
    ...(sealer ? { sealer } : {}),
  };
}
