import { createHash, randomBytes } from 'node:crypto';
import { Layout } from './layout.js';
import { NotFoundError, PermanentError } from '../errors.js';
import { parseStoredJson, type ObjectStore } from '../store/object-store.js';
import type { KeyWrapper } from '../crypto/key-wrapper.js';
import { Sealer } from '../crypto/sealer.js';

interface StoredDataKey {
  keyId: string;
  wrappedBy: string;
  wrappedKey: string;
}

/** The id of the data key a key-encryption key wraps. */
export function dataKeyId(wrapper: KeyWrapper): string {
  return `dek-${createHash('sha256').update(wrapper.id).digest('hex').slice(0, 16)}`;
}

/** A catalog needs a data key that is gone from the store: nothing sealed with it can open. */
export class MissingDataKeyError extends PermanentError {
  constructor(
    readonly key: string,
    readonly catalogs: string[],
    url: string,
  ) {
    const shown = catalogs.slice(0, 5).join(', ');
    const more = catalogs.length > 5 ? ` and ${catalogs.length - 5} more` : '';
    super(
      `The data key ${key} is missing from ${url}, and ${catalogs.length} catalog(s) were sealed with it (${shown}${more}); ` +
        'put the key object back (an older version of it, a copy of the store) instead of letting a new data key take its id',
    );
  }
}

/**
 * The store's data key, created once per key-encryption key and kept
 * wrapped in the store, so every backup of every cluster shares it and
 * a restore needs only the store and the key file (or KMS access).
 *
 * A key is created only while no catalog in the store names it: a missing
 * key that catalogs need was deleted, and a new key under the same id would
 * leave every Secret in those backups sealed with a key nobody has.
 */
export async function loadSealer(store: ObjectStore, wrapper: KeyWrapper): Promise<Sealer> {
  const keyId = dataKeyId(wrapper);
  const key = Layout.dataKey(keyId);
  if (!(await store.exists(key))) {
    const needing = await catalogsNaming(store, keyId);
    if (needing.length > 0) throw new MissingDataKeyError(key, needing, store.url);
    const dataKey = randomBytes(32);
    const stored: StoredDataKey = {
      keyId,
      wrappedBy: wrapper.id,
      wrappedKey: (await wrapper.wrap(dataKey)).toString('base64'),
    };
    // A concurrent writer may win; then its key is the one everybody uses.
    await store.createIfAbsent(key, JSON.stringify(stored, null, 2));
  }
  const stored = parseStoredJson(await store.get(key), key) as StoredDataKey;
  return new Sealer(keyId, await wrapper.unwrap(Buffer.from(stored.wrappedKey, 'base64')));
}

/**
 * The catalogs in the store that name a data key. A catalog that does not
 * parse counts when its bytes hold the key's id: it may well need it.
 */
export async function catalogsNaming(store: ObjectStore, keyId: string): Promise<string[]> {
  const found: string[] = [];
  for await (const info of store.list('backups/')) {
    if (!/^backups\/[^/]+\/[^/]+\/catalog\.json$/.test(info.key)) continue;
    let body: string;
    try {
      body = (await store.get(info.key)).toString('utf8');
    } catch (error) {
      if (error instanceof NotFoundError) continue; // deleted since the listing
      // Unread, it might name the key: a new key is never created on a guess (the error is rethrown).
      throw error;
    }
    let named: unknown;
    try {
      named = (JSON.parse(body) as { encryption?: { keyId?: unknown } } | null)?.encryption?.keyId;
    } catch {
      named = body.includes(keyId) ? keyId : undefined;
    }
    if (named === keyId) found.push(info.key);
  }
  return found;
}
