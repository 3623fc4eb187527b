import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listCatalogs, readCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { decodePack } from '../../../shared/catalog/pack.js';
import { openStore } from '../../../shared/store/open-store.js';
import { plannedClusters, seedUiStore } from '../../../bench/ui-seed.js';

/** The UI benchmark measures a store the code reads as a real one: valid catalogs and packs. */
describe('the UI benchmark’s synthetic store', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-ui-seed-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds valid catalogs naming verified packs, every backup of a cluster sharing them', async function () {
    const store = openStore(`file://${dir}`);
    const progress: Record<string, unknown>[] = [];
    const clusters = plannedClusters(7, 3000);
    const seeded = await seedUiStore(store, clusters, (line) => progress.push(line));

    assert.deepEqual(
      clusters.map((c) => [c.cluster.name, c.objects, c.backups]),
      [
        ['prod', 3000, 3],
        ['staging', 300, 2],
        ['dev', 30, 2],
      ],
    );
    assert.equal(seeded.catalogs, 7);
    assert.ok(progress.some((p) => p['event'] === 'seeding'));
    for (const { cluster, objects, backups } of clusters) {
      const ids = await listCatalogs(store, cluster);
      assert.equal(ids.length, backups, Layout.clusterKey(cluster));
      const catalogs = await Promise.all(ids.map((id) => readCatalog(store, cluster, id)));
      const packSets = new Set(catalogs.map((c) => c.packs.map((p) => p.digest).join(',')));
      assert.equal(
        packSets.size,
        1,
        'incremental backups of an unchanged cluster name the same packs',
      );
      const newest = catalogs.at(-1);
      assert.ok(newest);
      assert.equal(newest.counts.objects, objects);
      let records = 0;
      for (const entry of newest.packs) {
        // decodePack checks the pack against the digest the catalog names.
        const pack = decodePack(await store.get(Layout.pack(entry.digest)), entry.digest);
        assert.equal(pack.records.length, entry.objects);
        assert.ok(entry.objects <= 2048, 'the export cuts a pack at 2048 objects at most');
        records += pack.records.length;
      }
      assert.equal(records, objects);
    }
    assert.equal(seeded.newest.cluster.name, 'prod');
    const newest = await readCatalog(store, seeded.newest.cluster, seeded.newest.backupId);
    assert.deepEqual(
      seeded.newest.packs,
      newest.packs.map((p) => p.digest),
    );
    assert.equal((await listCatalogs(store, seeded.newest.cluster)).at(-1), seeded.newest.backupId);
    // Store times follow backup times, as in a real store: each catalog was written after the
    // one before it had started, so none started before an older one's store time.
    for (const { cluster } of clusters) {
      const infos = [];
      for await (const info of store.list(Layout.clusterBackups(cluster))) {
        if (info.key.endsWith('/catalog.json')) infos.push(info);
      }
      const ids = await listCatalogs(store, cluster);
      const catalogs = await Promise.all(ids.map((id) => readCatalog(store, cluster, id)));
      for (let i = 1; i < catalogs.length; i++) {
        const before = infos.find((x) => x.key === Layout.catalog(cluster, ids[i - 1] ?? ''));
        assert.ok(before);
        assert.ok(
          Date.parse(catalogs[i]?.startedAt ?? '') >= before.updated.getTime(),
          `${ids[i]} started before ${ids[i - 1]} was written`,
        );
      }
    }
  });
});
