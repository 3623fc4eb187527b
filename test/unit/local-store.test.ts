import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRetryable, PermanentError } from '../../shared/errors.js';
import { LocalStore } from '../../shared/store/local-store.js';
import { objectStoreContract } from '../contract/object-store.contract.js';

objectStoreContract(
  'local filesystem',
  async () => new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-store-'))),
);

describe('LocalStore confined to its root', () => {
  let parent: string;
  let root: string;
  let store: LocalStore;
  const sibling = () => join(parent, 'secret.txt');

  beforeEach(async () => {
    parent = mkdtempSync(join(tmpdir(), 'lifeboat-confine-'));
    root = join(parent, 'store');
    mkdirSync(root);
    writeFileSync(sibling(), 'outside');
    store = new LocalStore(root);
    await store.put('backups/a.json', 'inside');
  });

  async function listed(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const info of store.list(prefix)) keys.push(info.key);
    return keys;
  }

  for (const prefix of ['../', 'a/../../', '..', './', '/', '/etc/', 'backups/../../', 'x\0/']) {
    it(`refuses to list ${JSON.stringify(prefix)} with a permanent error`, async () => {
      await assert.rejects(listed(prefix), (error: unknown) => {
        assert.ok(error instanceof PermanentError, String(error));
        assert.equal(isRetryable(error), false);
        return true;
      });
    });
  }

  for (const key of ['../secret.txt', 'a/../../secret.txt', 'backups/../../secret.txt', 'a\0b']) {
    it(`refuses get, put, exists and delete of ${JSON.stringify(key)}`, async () => {
      const permanent = (error: unknown) => error instanceof PermanentError && !isRetryable(error);
      await assert.rejects(store.get(key), permanent);
      await assert.rejects(store.put(key, 'overwritten'), permanent);
      await assert.rejects(store.createIfAbsent(key, 'overwritten'), permanent);
      await assert.rejects(store.exists(key), permanent);
      await assert.rejects(store.delete(key), permanent);
      assert.equal(readFileSync(sibling(), 'utf8'), 'outside');
      assert.deepEqual(readdirSync(parent).sort(), ['secret.txt', 'store']);
    });
  }

  it('lists what is inside and never what is beside it', async () => {
    assert.deepEqual(await listed(''), ['backups/a.json']);
    assert.deepEqual(await listed('backups/'), ['backups/a.json']);
    assert.deepEqual(await listed('back'), ['backups/a.json']);
  });

  it('refuses a root given with ".." segments by resolving it first', async () => {
    const twisted = new LocalStore(join(root, 'x', '..'));
    await assert.rejects(twisted.get('../secret.txt'), PermanentError);
    assert.equal((await twisted.get('backups/a.json')).toString(), 'inside');
  });

  it('calls a name too long for the file system permanent, not transient', async () => {
    const key = `backups/${'n'.repeat(300)}.json`;
    await assert.rejects(store.put(key, 'x'), (error: unknown) => {
      assert.ok(error instanceof PermanentError, String(error));
      assert.match(String(error), /ENAMETOOLONG|name too long/i);
      return true;
    });
    await assert.rejects(store.get(key), PermanentError);
    assert.deepEqual(readdirSync(join(root, '.tmp')), [], 'no temp file left behind');
  });

  it('refuses keys longer than 1024 bytes and keys with control characters', async () => {
    await assert.rejects(store.put(`a/${'b/'.repeat(600)}c`, 'x'), /longer than 1024 bytes/);
    await assert.rejects(store.put('a/b\nc', 'x'), /control character/);
  });
});
