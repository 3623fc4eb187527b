import { strict as assert } from 'node:assert';
import { PackCache } from '../../../shared/ui/pack-cache.js';

const bytes = (n: number): Buffer => Buffer.alloc(n, 1);

describe('ui: the pack cache is bounded by bytes and drops the least recently used', () => {
  it('keeps packs until the bound, then drops the least recently read', () => {
    const cache = new PackCache(100);
    cache.set('a', bytes(40));
    cache.set('b', bytes(40));
    assert.ok(cache.get('a'), 'a read: b is now the least recent');
    cache.set('c', bytes(40));
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a')?.length, 40);
    assert.equal(cache.get('c')?.length, 40);
    assert.equal(cache.bytes, 80);
  });

  it('never holds a pack larger than the bound, nor counts one twice', () => {
    const cache = new PackCache(100);
    cache.set('big', bytes(101));
    assert.equal(cache.get('big'), undefined);
    cache.set('a', bytes(60));
    cache.set('a', bytes(60));
    assert.equal(cache.bytes, 60);
  });
});
