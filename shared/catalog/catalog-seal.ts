import { timingSafeEqual } from 'node:crypto';
import type { Sealer } from '../crypto/sealer.js';
import { NotFoundError, PermanentError } from '../errors.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Catalog } from './catalog-schema.js';
import { Layout } from './layout.js';

/**
 * What a restore may trust: `authenticated` when the catalog's seal
 * verifies with the data key; `unauthenticated` when it has none (written
 * before seals existed, or without a key); `unverified` when it has one but
 * no key was given to check it. A seal that does not verify is refused.
 */
export type Authenticity = 'authenticated' | 'unauthenticated' | 'unverified';

interface StoredSeal {
  keyId: string;
  mac: string;
}

/**
 * The catalog digests its packs and they digest their objects, so one MAC
 * over the digest, bound to the cluster and backup id, authenticates the
 * whole backup: rebuilding a pack means a new catalog digest, which only
 * the holder of the data key can seal.
 */
function sealMessage(catalog: Catalog): string {
  return `lifeboat catalog seal 1\n${Layout.clusterKey(catalog.cluster)}\n${catalog.backupId}\n${catalog.digest}`;
}

/** Seals a catalog with the data key; idempotent (write-once). */
export async function sealCatalog(
  store: ObjectStore,
  sealer: Sealer,
  catalog: Catalog,
): Promise<void> {
  const seal: StoredSeal = { keyId: sealer.keyId, mac: sealer.authenticate(sealMessage(catalog)) };
  await store.createIfAbsent(Layout.seal(catalog.cluster, catalog.backupId), JSON.stringify(seal));
}

export async function checkSeal(
  store: ObjectStore,
  catalog: Catalog,
  sealer: Sealer | undefined,
): Promise<Authenticity> {
  const key = Layout.seal(catalog.cluster, catalog.backupId);
  let seal: StoredSeal;
  try {
    seal = JSON.parse((await store.get(key)).toString('utf8')) as StoredSeal;
  } catch (error) {
    if (error instanceof NotFoundError) return 'unauthenticated';
    if (error instanceof SyntaxError)
      throw new PermanentError(`The seal ${key} is not valid JSON: forged or damaged`);
    throw error;
  }
  if (catalog.encryption && seal.keyId !== catalog.encryption.keyId) {
    throw new PermanentError(
      `The seal ${key} names data key ${String(seal.keyId)}, but the catalog was sealed under ${catalog.encryption.keyId}: forged`,
    );
  }
  // Without the key, or with another store's key, it cannot be checked here (nor its Secrets opened).
  if (!sealer || seal.keyId !== sealer.keyId) return 'unverified';
  const expected = Buffer.from(sealer.authenticate(sealMessage(catalog)), 'hex');
  const actual = Buffer.from(typeof seal.mac === 'string' ? seal.mac : '', 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new PermanentError(
      `Backup ${catalog.backupId} of ${Layout.clusterKey(catalog.cluster)} does not authenticate: its catalog or seal was forged or altered after the backup`,
    );
  }
  return 'authenticated';
}
