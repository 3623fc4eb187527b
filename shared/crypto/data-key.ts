import { createHash, randomBytes } from 'node:crypto';
import { Layout } from '../catalog/layout.js';
import type { ObjectStore } from '../store/object-store.js';
import type { KeyWrapper } from './key-wrapper.js';
import { Sealer } from './sealer.js';

interface StoredDataKey {
  keyId: string;
  wrappedBy: string;
  wrappedKey: string;
}

/**
 * The store's data key, created once per key-encryption key and kept
 * wrapped in the store, so every backup of every cluster shares it and
 * a restore needs only the store and the key file (or KMS access).
 */
export async function loadSealer(store: ObjectStore, wrapper: KeyWrapper): Promise<Sealer> {
  const keyId = `dek-${createHash('sha256').update(wrapper.id).digest('hex').slice(0, 16)}`;
  const key = Layout.dataKey(keyId);
  if (!(await store.exists(key))) {
    const dataKey = randomBytes(32);
    const stored: StoredDataKey = {
      keyId,
      wrappedBy: wrapper.id,
      wrappedKey: (await wrapper.wrap(dataKey)).toString('base64'),
    };
    // A concurrent writer may win; then its key is the one everybody uses.
    await store.createIfAbsent(key, JSON.stringify(stored, null, 2));
  }
  const stored = JSON.parse((await store.get(key)).toString('utf8')) as StoredDataKey;
  return new Sealer(keyId, await wrapper.unwrap(Buffer.from(stored.wrappedKey, 'base64')));
}
