import { strict as assert } from 'node:assert';
import { mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Layout } from '../../../shared/catalog/layout.js';
import { PACK_GRACE_MS, sweep } from '../../../shared/pipeline/retention.js';
import type { ObjectInfo } from '../../../shared/store/object-store.js';
import { LocalStore } from '../../../shared/store/local-store.js';

const DAY = 86_400_000;
const digest = 'ab'.repeat(32);

/** A store holding one pack nothing references, last written ten days ago. */
function storeWithAnOldPack(): { store: LocalStore; file: string; key: string } {
  const root = mkdtempSync(join(tmpdir(), 'lifeboat-reuse-'));
  const store = new LocalStore(root);
  const key = Layout.pack(digest);
  return { store, file: join(root, ...key.split('/')), key };
}

describe('a pack found in the store and reused is not collected under the shard reusing it', () => {
  it('a pack nothing references, old enough, is collected', async () => {
    const { store, file, key } = storeWithAnOldPack();
    await store.put(key, 'pack');
    const old = new Date(Date.now() - 10 * DAY);
    utimesSync(file, old, old);
    const report = await sweep(store, undefined);
    assert.equal(report.deletedPacks, 1);
  });

  it('touched by a shard that found it (instead of uploading it), it is young again and kept', async () => {
    const { store, file, key } = storeWithAnOldPack();
    await store.put(key, 'pack');
    const old = new Date(Date.now() - 10 * DAY);
    utimesSync(file, old, old);
    await store.touch(key);
    const report = await sweep(store, undefined, { packGraceMs: PACK_GRACE_MS });
    assert.equal(report.deletedPacks, 0);
    assert.ok(await store.exists(key));
  });

  it('touched after the sweep listed it, it is still kept: the sweep looks again right before deleting', async () => {
    const { store, file, key } = storeWithAnOldPack();
    await store.put(key, 'pack');
    const old = new Date(Date.now() - 10 * DAY);
    utimesSync(file, old, old);
    const racing = Object.create(store) as LocalStore;
    racing.list = async function* (prefix: string): AsyncIterable<ObjectInfo> {
      for await (const info of store.list(prefix)) {
        // Listed with its old time; before the sweep acts on that line, a shard touches it.
        if (prefix === 'objects/sha256/') await store.touch(key);
        yield info;
      }
    };
    const report = await sweep(racing, undefined, { packGraceMs: PACK_GRACE_MS });
    assert.equal(report.deletedPacks, 0);
    assert.ok(await store.exists(key));
  });
});
