import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKeyWrapper, generateKeyFileContents } from '../../shared/crypto/key-wrapper.js';
import { dataKeyId, loadSealer, MissingDataKeyError } from '../../shared/catalog/data-key.js';
import { Layout } from '../../shared/catalog/layout.js';
import { isRetryable, PermanentError } from '../../shared/errors.js';
import { LocalStore } from '../../shared/store/local-store.js';
import { goldenCopy } from '../support/golden.js';
import { FaultyStore } from '../../local/faulty-store.js';

function newKeyFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'lifeboat-key-')), 'key');
  writeFileSync(file, generateKeyFileContents(), { mode: 0o600 });
  return file;
}

async function keysIn(store: LocalStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list('keys/')) keys.push(info.key);
  return keys;
}

describe('a missing data key is refused, not silently replaced', () => {
  it('refuses to create a key that a backup in the store was sealed with, and writes none', async () => {
    const golden = await goldenCopy('format-2');
    const wrapper = new LocalKeyWrapper(golden.keyFile);
    const key = Layout.dataKey(dataKeyId(wrapper));
    assert.deepEqual(await keysIn(golden.store), [key]);
    rmSync(join(golden.dir, 'store', ...key.split('/')));

    const error = await loadSealer(golden.store, wrapper).then(
      () => assert.fail('a new data key was created under the id of the deleted one'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof MissingDataKeyError, String(error));
    assert.ok(error instanceof PermanentError);
    assert.equal(isRetryable(error), false);
    assert.match(String(error), new RegExp(key.replace(/[.]/g, '\\.')));
    assert.match(String(error), /backups\/local\.local\.source\/golden\/catalog\.json/);
    assert.deepEqual(error.catalogs, ['backups/local.local.source/golden/catalog.json']);
    assert.deepEqual(await keysIn(golden.store), [], 'no key object written');
  });

  it('creates no key when a catalog cannot be read for now: the read error goes to the caller', async () => {
    const golden = await goldenCopy('format-2');
    const wrapper = new LocalKeyWrapper(golden.keyFile);
    const key = Layout.dataKey(dataKeyId(wrapper));
    rmSync(join(golden.dir, 'store', ...key.split('/')));
    const flaky = new FaultyStore(golden.store);
    flaky.arm({ op: 'get', keys: (k) => k.endsWith('/catalog.json'), mode: 'transient' });
    await assert.rejects(loadSealer(flaky, wrapper), (e: unknown) => isRetryable(e));
    assert.deepEqual(await keysIn(golden.store), [], 'no key object written');
  });

  it('counts a catalog that no longer parses but holds the key id', async () => {
    const store = new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-dk-')));
    const wrapper = new LocalKeyWrapper(newKeyFile());
    const id = dataKeyId(wrapper);
    await store.put(
      Layout.catalog({ project: 'p', location: 'l', name: 'c' }, 'b1'),
      `{"encryption":{"keyId":"${id}"`,
    );
    await assert.rejects(loadSealer(store, wrapper), MissingDataKeyError);
    assert.deepEqual(await keysIn(store), []);
  });

  it('creates the key in a fresh store, once, and finds it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-dk-'));
    const store = new LocalStore(dir);
    const wrapper = new LocalKeyWrapper(newKeyFile());
    const first = await loadSealer(store, wrapper);
    assert.deepEqual(await keysIn(store), [Layout.dataKey(first.keyId)]);
    const again = await loadSealer(store, wrapper);
    assert.equal(again.keyId, first.keyId);
    const sealed = first.seal(Buffer.from('hunter2'), 'v1/Secret/ns/db');
    assert.equal(again.open(sealed, 'v1/Secret/ns/db').toString(), 'hunter2');
    assert.deepEqual(readdirSync(join(dir, 'keys')).length, 1);
  });

  it('creates a key for another key file next to catalogs sealed with a different key', async () => {
    const golden = await goldenCopy('format-2');
    const other = new LocalKeyWrapper(newKeyFile());
    const sealer = await loadSealer(golden.store, other);
    assert.equal(sealer.keyId, dataKeyId(other));
    assert.equal((await keysIn(golden.store)).length, 2);
  });
});
