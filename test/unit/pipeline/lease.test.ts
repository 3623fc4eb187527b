import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LEASE_MS, leaseBackup, releaseLease } from '../../../shared/catalog/backup-lease.js';
import { writeCatalog, type UnsignedCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { sweep } from '../../../shared/pipeline/retention.js';
import { lockBackup } from '../../../shared/pipeline/locks.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { validate } from '../../../shared/validate.js';

const DAY = 86_400_000;
const cluster = { project: 'local', location: 'local', name: 'source' };
const policy = validate(BackupPolicy, { name: 'nightly', projects: ['local'], ttlDays: 30 }, 'p');
const now = Date.parse('2026-11-29T00:00:00Z');

function catalog(backupId: string, daysAgo: number): UnsignedCatalog {
  const at = new Date(now - daysAgo * DAY).toISOString();
  return {
    kind: 'Catalog',
    backupId,
    cluster,
    kubernetesVersion: 'v1.33.13',
    policy,
    phase: 'Completed',
    startedAt: at,
    completedAt: at,
    counts: { objects: 0, packs: 0, packBytes: 0, volumes: 0, secrets: 0 },
    resources: [],
    packs: [],
    volumes: [],
    warnings: [],
    errors: [],
  };
}

async function storeWithAnOldBackup(): Promise<LocalStore> {
  const store = new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-lease-')));
  await writeCatalog(store, catalog('old', 40));
  await writeCatalog(store, catalog('new', 1));
  return store;
}

describe('restore leases: retention never deletes a backup a restore is reading', () => {
  it('keeps an expired backup while a restore holds a live lease on it, and says why', async () => {
    const store = await storeWithAnOldBackup();
    await leaseBackup(store, cluster, 'old', 'restore-1', now);
    const report = await sweep(store, undefined, { now });
    assert.deepEqual(report.expired, []);
    assert.ok(
      report.kept.some((k) => k.backupId === 'old' && /leased by restore restore-1/.test(k.reason)),
    );
    assert.ok(await store.exists(Layout.catalog(cluster, 'old')));
    assert.equal(
      await store.exists(Layout.expiring(cluster, 'old')),
      false,
      'the mark is taken back',
    );
  });

  it('expires it once the lease is released', async () => {
    const store = await storeWithAnOldBackup();
    await leaseBackup(store, cluster, 'old', 'restore-1', now);
    await releaseLease(store, cluster, 'old', 'restore-1');
    const report = await sweep(store, undefined, { now });
    assert.deepEqual(
      report.expired.map((e) => e.backupId),
      ['old'],
    );
    assert.equal(await store.exists(Layout.catalog(cluster, 'old')), false);
  });

  it('a lease a crashed restore left behind lapses', async () => {
    const store = await storeWithAnOldBackup();
    await leaseBackup(store, cluster, 'old', 'crashed', now - LEASE_MS - 1);
    const report = await sweep(store, undefined, { now });
    assert.deepEqual(
      report.expired.map((e) => e.backupId),
      ['old'],
    );
  });

  it('an unreadable lease counts as live', async () => {
    const store = await storeWithAnOldBackup();
    await store.put(Layout.lease(cluster, 'old', 'garbled'), '{not json');
    const report = await sweep(store, undefined, { now });
    assert.deepEqual(report.expired, []);
  });

  it('a restore refuses a backup a sweep has begun to delete, and leaves no lease', async () => {
    const store = await storeWithAnOldBackup();
    await store.createIfAbsent(Layout.expiring(cluster, 'old'), '{}');
    await assert.rejects(
      leaseBackup(store, cluster, 'old', 'late', now),
      /has expired and is being deleted/,
    );
    assert.equal(await store.exists(Layout.lease(cluster, 'old', 'late')), false);
  });
});

describe('restore leases and a sweep stopped mid-way', () => {
  it('a backup a stopped sweep marked expiring, then leased by a restore, is not deleted by the next sweep', async () => {
    const store = await storeWithAnOldBackup();
    await store.createIfAbsent(Layout.expiring(cluster, 'old'), '{}'); // the stopped sweep's mark
    await store.put(
      Layout.lease(cluster, 'old', 'restore-2'),
      JSON.stringify({ restoreId: 'restore-2', until: new Date(now + LEASE_MS).toISOString() }),
    );
    await sweep(store, undefined, { now });
    assert.ok(await store.exists(Layout.catalog(cluster, 'old')));
    // The mark stays: the stopped sweep may have begun deleting; the deletion waits for the lease.
    assert.ok(await store.exists(Layout.expiring(cluster, 'old')));
    await releaseLease(store, cluster, 'old', 'restore-2');
    await sweep(store, undefined, { now });
    assert.equal(await store.exists(Layout.catalog(cluster, 'old')), false);
    assert.equal(await store.exists(Layout.expiring(cluster, 'old')), false);
  });

  it('a lock taken after the sweep listed the store keeps the backup; a lock on one being deleted is refused', async () => {
    const store = await storeWithAnOldBackup();
    // Locked between the listing and the deletion: the store wrapper takes the lock when the mark appears.
    const racing = Object.create(store) as LocalStore;
    racing.createIfAbsent = async (key, body) => {
      const created = await store.createIfAbsent(key, body);
      if (key === Layout.expiring(cluster, 'old'))
        await store.createIfAbsent(Layout.lock(cluster, 'old'), '{}');
      return created;
    };
    const report = await sweep(racing, undefined, { now });
    assert.deepEqual(report.expired, []);
    assert.ok(report.kept.some((k) => k.backupId === 'old' && k.reason === 'locked'));
    assert.ok(await store.exists(Layout.catalog(cluster, 'old')));
    assert.equal(await store.exists(Layout.expiring(cluster, 'old')), false);

    const other = await storeWithAnOldBackup();
    await other.createIfAbsent(Layout.expiring(cluster, 'old'), '{}');
    await assert.rejects(lockBackup(other, cluster, 'old', 'test'), /cannot be locked/);
  });

  it('a sweep does not take back a mark another sweep made', async () => {
    const store = await storeWithAnOldBackup();
    const racing = Object.create(store) as LocalStore;
    racing.createIfAbsent = async (key, body) => {
      // Another sweep marked it first, then a restore leased it.
      if (key === Layout.expiring(cluster, 'old')) {
        await store.createIfAbsent(key, '{"other":true}');
        await leaseBackup(store, cluster, 'old', 'r', now).catch(() => undefined);
        return false;
      }
      return store.createIfAbsent(key, body);
    };
    const report = await sweep(racing, undefined, { now });
    assert.ok(report.kept.some((k) => k.backupId === 'old' && /another sweep/.test(k.reason)));
    assert.equal((await store.get(Layout.expiring(cluster, 'old'))).toString(), '{"other":true}');
  });
});
