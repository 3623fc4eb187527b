import { mapLimit } from '../concurrency.js';
import { PermanentError } from '../errors.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Catalog, PackEntry } from './catalog-schema.js';
import type { ObjectRef, PackRecord } from './pack.js';
import { openPack } from './pack-reader.js';
import { isSecretRef, readPackBytes } from './read-pack.js';

/** An object's ref, with its record parsed again only when asked for (its body is compared). */
export interface PackRecordAt {
  ref: ObjectRef;
  record(): PackRecord;
}

/**
 * Reads and verifies packs of a backup as a restore would (every digest,
 * the catalog's count of each pack, no Secret stored unsealed), keeping
 * each inflated and its records' refs, not their parsed bodies.
 */
export async function readPackRecords(
  store: ObjectStore,
  entries: PackEntry[],
  catalog: Catalog,
): Promise<PackRecordAt[]> {
  const packs = await mapLimit(entries, 4, async (entry) => {
    const gz = await readPackBytes(store, catalog.backupId, entry);
    const opened = openPack(gz, entry.digest);
    if (opened.count !== entry.objects) {
      throw new PermanentError(
        `Pack ${entry.digest} holds ${opened.count} objects; the catalog of backup ${catalog.backupId} says ${entry.objects}`,
      );
    }
    return Array.from({ length: opened.count }, (_, index): PackRecordAt => {
      const record = opened.record(index);
      if (isSecretRef(record.ref) && !record.sealed) {
        throw new PermanentError(
          `Backup ${catalog.backupId} holds Secret ${record.ref.namespace ?? ''}/${record.ref.name} unsealed: Lifeboat never writes one, so the backup was tampered with`,
        );
      }
      return { ref: record.ref, record: () => opened.record(index) };
    });
  });
  return packs.flat();
}
