import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../shared/config/config.js';
import { crc32c } from '../../../shared/crypto/crc32c.js';
import { loadSealer } from '../../../shared/catalog/data-key.js';
import {
  kmsClientOptions,
  kmsError,
  KmsKeyWrapper,
} from '../../../shared/crypto/kms-key-wrapper.js';
import { isRetryable, PermanentError, TransientError } from '../../../shared/errors.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { KmsStandin } from '../../../local/standins/kms/server.js';
import { KmsAdmin } from '../../../local/kms-admin.js';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e as Error,
  );
}

/** The real @google-cloud/kms client (REST) against the Cloud KMS stand-in. */
describe('KmsKeyWrapper against the Cloud KMS stand-in', function () {
  this.timeout(60_000);
  let standin: KmsStandin;
  let admin: KmsAdmin;
  const wrappers: KmsKeyWrapper[] = [];
  let n = 0;

  before(async () => {
    standin = await KmsStandin.start();
    admin = new KmsAdmin(standin);
  });
  after(async () => {
    await Promise.all(wrappers.map((w) => w.close()));
    await admin.close();
    await standin.stop();
  });
  beforeEach(() => {
    standin.clearFaults();
    standin.resetCounts();
  });

  async function newKey(): Promise<string> {
    n += 1;
    return admin.createKey({
      project: 'prod-project',
      location: 'europe-west1',
      keyRing: 'lifeboat-keys',
      key: `catalog-${n}`,
    });
  }

  function wrapperFor(keyName: string): KmsKeyWrapper {
    const wrapper = new KmsKeyWrapper(keyName, { endpoint: standin.url });
    wrappers.push(wrapper);
    return wrapper;
  }

  it('wraps and unwraps a data key; the id names the key, and only encrypt and decrypt are called', async () => {
    const keyName = await newKey();
    standin.resetCounts();
    const wrapper = wrapperFor(keyName);
    assert.equal(wrapper.id, `kms:${keyName}`);
    const dataKey = randomBytes(32);
    const wrapped = await wrapper.wrap(dataKey);
    assert.ok(!wrapped.includes(dataKey), 'the data key does not appear in what is stored');
    assert.deepEqual(await wrapper.unwrap(wrapped), dataKey);
    // Another instance (another function) unwraps it too.
    assert.deepEqual(await wrapperFor(keyName).unwrap(wrapped), dataKey);
    assert.deepEqual(
      standin.requests.map((r) => r.method),
      ['cryptoKeys.encrypt', 'cryptoKeys.decrypt', 'cryptoKeys.decrypt'],
    );
    assert.ok(
      standin.requests.every((r) => r.url.includes(':')),
      'calls are made on the key, not a version',
    );
  });

  it('after a rotation, keys wrapped before still unwrap and new wraps use the new primary version', async () => {
    const keyName = await newKey();
    const wrapper = wrapperFor(keyName);
    const v1 = await admin.primary(keyName);
    const before = randomBytes(32);
    const wrappedBefore = await wrapper.wrap(before);

    const v2 = await admin.rotate(keyName);
    assert.equal(await admin.primary(keyName), v2);
    const after = randomBytes(32);
    const wrappedAfter = await wrapper.wrap(after);
    assert.deepEqual(await wrapper.unwrap(wrappedBefore), before);
    assert.deepEqual(await wrapper.unwrap(wrappedAfter), after);
    assert.deepEqual(
      standin.uses.map((u) => [u.method, u.version]),
      [
        ['encrypt', v1],
        ['encrypt', v2],
        ['decrypt', v1],
        ['decrypt', v2],
      ],
    );

    // Disabling the old version stops what it wrapped, and only that.
    await admin.setState(v1, 'DISABLED');
    const error = await rejection(wrapper.unwrap(wrappedBefore));
    assert.ok(error instanceof PermanentError, String(error));
    assert.equal(isRetryable(error), false);
    assert.ok(error.message.includes(keyName), error.message);
    assert.match(error.message, /cryptoKeyVersions\/1 is not enabled, current state is: DISABLED/);
    assert.match(
      error.message,
      /enable the key version again \(gcloud kms keys versions enable 1 --key catalog-\d+ --keyring lifeboat-keys --location europe-west1 --project prod-project\)/,
    );
    assert.deepEqual(await wrapper.unwrap(wrappedAfter), after);
    await admin.setState(v1, 'ENABLED');
    assert.deepEqual(await wrapper.unwrap(wrappedBefore), before);
  });

  it('a disabled primary version refuses new wraps with the key named', async () => {
    const keyName = await newKey();
    const wrapper = wrapperFor(keyName);
    const wrapped = await wrapper.wrap(randomBytes(32));
    await admin.setState(await admin.primary(keyName), 'DISABLED');
    const error = await rejection(wrapper.wrap(randomBytes(32)));
    assert.ok(error instanceof PermanentError, String(error));
    assert.match(
      error.message,
      new RegExp(
        `^Cloud KMS key ${keyName} could not wrap \\(encrypt\\) the data key: .*is not enabled, current state is: DISABLED; no data key can be created with it: enable the key version again`,
      ),
    );
    assert.ok((await rejection(wrapper.unwrap(wrapped))) instanceof PermanentError);
  });

  it('a version scheduled for destruction says to restore it; a destroyed one that nothing brings it back', async () => {
    const keyName = await newKey();
    const wrapper = wrapperFor(keyName);
    const wrapped = await wrapper.wrap(randomBytes(32));
    const v1 = await admin.primary(keyName);
    await admin.rotate(keyName);
    await admin.client.destroyCryptoKeyVersion({ name: v1 });
    assert.equal(await admin.state(v1), 'DESTROY_SCHEDULED');
    const scheduled = await rejection(wrapper.unwrap(wrapped));
    assert.ok(scheduled instanceof PermanentError);
    assert.match(
      scheduled.message,
      /restore the key version before its destruction \(gcloud kms keys versions restore 1 /,
    );

    standin.finishDestruction(v1);
    const destroyed = await rejection(wrapper.unwrap(wrapped));
    assert.ok(destroyed instanceof PermanentError);
    assert.match(destroyed.message, /current state is: DESTROYED; .*cannot be recovered/);
  });

  it('a missing key and a denied permission are permanent, with the key and what to do', async () => {
    const keyName = await newKey();
    const missing = wrapperFor(`${keyName}-gone`);
    const notFound = await rejection(missing.wrap(randomBytes(32)));
    assert.ok(notFound instanceof PermanentError, String(notFound));
    assert.ok(notFound.message.includes(`${keyName}-gone`));
    assert.match(notFound.message, /not found; check LIFEBOAT_KMS_KEY/);

    const wrapper = wrapperFor(keyName);
    const wrapped = await wrapper.wrap(randomBytes(32));
    standin.denyPermission('cloudkms.cryptoKeyVersions.useToDecrypt');
    const denied = await rejection(wrapper.unwrap(wrapped));
    assert.ok(denied instanceof PermanentError, String(denied));
    assert.ok(denied.message.includes(keyName));
    assert.match(
      denied.message,
      /Permission 'cloudkms\.cryptoKeyVersions\.useToDecrypt' denied .*; grant this function's service account cloudkms\.cryptoKeyVersions\.useToDecrypt on the key/,
    );
    standin.denyPermission('cloudkms.cryptoKeyVersions.useToEncrypt');
    const deniedWrap = await rejection(wrapper.wrap(randomBytes(32)));
    assert.match(
      deniedWrap.message,
      /grant this function's service account cloudkms\.cryptoKeyVersions\.useToEncrypt/,
    );
  });

  it('a data key wrapped with another key is refused as such', async () => {
    const wrapped = await wrapperFor(await newKey()).wrap(randomBytes(32));
    const other = await newKey();
    const error = await rejection(wrapperFor(other).unwrap(wrapped));
    assert.ok(error instanceof PermanentError, String(error));
    assert.match(
      error.message,
      /Decryption failed.*; the data key in the store was not wrapped with this key/,
    );
  });

  it('an unavailable service is retried by the client a few times, then left to redelivery', async () => {
    const keyName = await newKey();
    const wrapper = wrapperFor(keyName);
    const dataKey = randomBytes(32);
    standin.failNext(2, 503, 'cryptoKeys.encrypt');
    const wrapped = await wrapper.wrap(dataKey);
    assert.equal(standin.callCount('cryptoKeys.encrypt'), 3, 'two 503s, then the answer');

    standin.failNext(100, 503, 'cryptoKeys.decrypt');
    const unavailable = await rejection(wrapper.unwrap(wrapped));
    assert.ok(unavailable instanceof TransientError, String(unavailable));
    assert.equal(isRetryable(unavailable), true);
    assert.ok(unavailable.message.includes(keyName));
    assert.equal(standin.callCount('cryptoKeys.decrypt'), 3, 'three attempts in the call');

    standin.clearFaults();
    for (const code of [500, 429] as const) {
      standin.failNext(1, code, 'cryptoKeys.decrypt');
      const error = await rejection(wrapper.unwrap(wrapped));
      assert.ok(error instanceof TransientError, `${code}: ${String(error)}`);
    }
    assert.deepEqual(await wrapper.unwrap(wrapped), dataKey);
  });

  it('checksums: the stand-in refuses a corrupted request, which is worth retrying', async () => {
    const keyName = await newKey();
    const error = await rejection(
      admin.client.encrypt({
        name: keyName,
        plaintext: Buffer.from('data key'),
        plaintextCrc32c: { value: crc32c(Buffer.from('data kez')) },
      }),
    );
    const classified = kmsError(keyName, 'wrap', error);
    assert.ok(classified instanceof TransientError, classified.message);
    assert.match(classified.message, /checksum in field plaintext_crc32c did not match/);
  });

  it('the store data key: created once wrapped with KMS, loaded again after a rotation', async () => {
    const keyName = await newKey();
    const store = new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-kms-')));
    const first = await loadSealer(store, wrapperFor(keyName));
    await admin.rotate(keyName);
    const again = await loadSealer(store, wrapperFor(keyName));
    assert.equal(again.keyId, first.keyId);
    const sealed = first.seal(Buffer.from('hunter2'), 'secrets/shop/db');
    assert.equal(again.open(sealed, 'secrets/shop/db').toString(), 'hunter2');
    assert.deepEqual(
      standin.uses.map((u) => u.method),
      ['encrypt', 'decrypt', 'decrypt'],
      'wrapped once, unwrapped by every load',
    );
  });
});

describe('Cloud KMS settings', () => {
  it('crc32c is CRC-32C (Castagnoli)', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
  });

  it('LIFEBOAT_KMS_ENDPOINT is validated like the other endpoints, and named when wrong', () => {
    const base = { LIFEBOAT_STORE: 'gs://acme-backups/lifeboat' };
    assert.equal(
      loadConfig({ ...base, LIFEBOAT_KMS_ENDPOINT: 'http://127.0.0.1:8085' }).kmsEndpoint,
      'http://127.0.0.1:8085',
    );
    assert.throws(
      () => loadConfig({ ...base, LIFEBOAT_KMS_ENDPOINT: 'cloudkms.googleapis.com' }),
      /LIFEBOAT_KMS_ENDPOINT \(kmsEndpoint\) must match pattern/,
    );
    assert.throws(() => kmsClientOptions('http://127.0.0.1:8085/v1'), /must have no path/);
    assert.deepEqual(kmsClientOptions(), { fallback: true });
  });

  it('a key name that is not a CryptoKey resource name is refused before any call', () => {
    assert.throws(
      () => new KmsKeyWrapper('projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1'),
      /must be a key resource name: projects\/PROJECT\/locations\/LOCATION\/keyRings\/RING\/cryptoKeys\/KEY/,
    );
  });
});
