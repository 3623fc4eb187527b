import { strict as assert } from 'node:assert';
import { NotFoundError } from '../../shared/errors.js';
import type { ObjectStore } from '../../shared/store/object-store.js';

/** The behaviour every ObjectStore adapter must share; run against each one. */
export function objectStoreContract(name: string, open: () => Promise<ObjectStore>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    beforeEach(async () => {
      store = await open();
    });

    it('uploads and downloads bytes unchanged', async () => {
      const body = Buffer.from([0, 1, 2, 255, 254]);
      await store.put('a/bin', body);
      assert.deepEqual(await store.get('a/bin'), body);
      assert.equal(await store.exists('a/bin'), true);
    });

    it('creates only when absent and refuses a second create without changing the object', async () => {
      assert.equal(await store.createIfAbsent('cat/catalog.json', 'first'), true);
      assert.equal(await store.createIfAbsent('cat/catalog.json', 'second'), false);
      assert.equal((await store.get('cat/catalog.json')).toString(), 'first');
    });

    it('lets exactly one of many concurrent creates win', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.createIfAbsent('race/x', `writer-${i}`)),
      );
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await store.get('race/x')).toString(), `writer-${winner}`);
    });

    it('lists by prefix, in key order, with sizes', async () => {
      await store.put('list/b/2', 'bb');
      await store.put('list/a/1', 'a');
      await store.put('list/a/3', 'ccc');
      await store.put('listing-other', 'x');
      const listed = [];
      for await (const info of store.list('list/')) listed.push([info.key, info.size]);
      assert.deepEqual(listed, [
        ['list/a/1', 1],
        ['list/a/3', 3],
        ['list/b/2', 2],
      ]);
      const partial = [];
      for await (const info of store.list('list/a/')) partial.push(info.key);
      assert.deepEqual(partial, ['list/a/1', 'list/a/3']);
    });

    it('reports a missing object as NotFoundError and deletes idempotently', async () => {
      await assert.rejects(store.get('missing/x'), NotFoundError);
      assert.equal(await store.exists('missing/x'), false);
      await store.put('del/x', 'x');
      await store.delete('del/x');
      await store.delete('del/x');
      assert.equal(await store.exists('del/x'), false);
    });

    it('touch makes an object young without changing it; an absent one is NotFoundError', async () => {
      await store.put('touch/x', 'same bytes');
      const listed = async (): Promise<number> => {
        for await (const info of store.list('touch/x')) return info.updated.getTime();
        throw new Error('touch/x is not listed');
      };
      const before = await listed();
      await new Promise((r) => setTimeout(r, 1100)); // past any store's timestamp resolution
      await store.touch('touch/x');
      assert.ok((await listed()) > before, 'the update time moved');
      assert.equal((await store.get('touch/x')).toString(), 'same bytes');
      await assert.rejects(store.touch('touch/missing'), NotFoundError);
    });

    it('refuses keys that escape the store', async () => {
      await assert.rejects(store.put('../etc/passwd', 'x'), /Invalid object key/);
      await assert.rejects(store.put('/abs', 'x'), /Invalid object key/);
    });
  });
}
