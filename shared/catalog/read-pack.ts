import { NotFoundError, PermanentError } from '../errors.js';
import type { ObjectStore } from '../store/object-store.js';
import type { PackEntry } from './catalog-schema.js';
import { Layout } from './layout.js';
import type { ObjectRef } from './pack.js';

/**
 * A pack's gzipped bytes, as the catalog of a backup lists it. A pack
 * missing from the store leaves the backup incomplete: the error names the
 * backup, the pack and its shard, never a bare "not found".
 */
export async function readPackBytes(
  store: ObjectStore,
  backupId: string,
  entry: PackEntry,
): Promise<Buffer> {
  try {
    return await store.get(Layout.pack(entry.digest));
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new PermanentError(
        `Backup ${backupId} is incomplete: pack ${entry.digest} (${entry.shardId}) is missing from ${store.url}`,
      );
    }
    throw error;
  }
}

/** Whether a record is a Secret, which Lifeboat only ever stores sealed. */
export const isSecretRef = (ref: ObjectRef): boolean =>
  ref.group === '' && (ref.resource === 'secrets' || ref.kind === 'Secret');
