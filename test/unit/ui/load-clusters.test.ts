import { strict as assert } from 'node:assert';
import { mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCatalog, type UnsignedCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { BackupPolicy, type BackupPhase } from '../../../shared/messages/common.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { loadClusterSummaries } from '../../../shared/ui/load-clusters.js';
import { validate } from '../../../shared/validate.js';

const HOUR = 3_600_000;
const cluster = { project: 'local', location: 'local', name: 'shop' };
const policy = validate(BackupPolicy, { name: 'hourly', projects: ['local'] }, 'policy');
const now = Date.parse('2026-11-30T12:00:00Z');

function catalog(backupId: string, hoursAgo: number, phase: BackupPhase): UnsignedCatalog {
  const startedAt = new Date(now - hoursAgo * HOUR).toISOString();
  return {
    kind: 'Catalog',
    backupId,
    cluster,
    kubernetesVersion: 'v1.33.13',
    policy,
    phase,
    startedAt,
    completedAt: new Date(Date.parse(startedAt) + 60_000).toISOString(),
    counts: { objects: 100 - hoursAgo, packs: 0, packBytes: 0, volumes: 0, secrets: 0 },
    resources: [],
    packs: [],
    volumes: [],
    warnings: [],
    errors: [],
  };
}

/**
 * Hourly backups, 40 hours of them, each catalog stored when its backup
 * completed (as a real store's object times are); the newest `failed` of them Failed.
 */
async function hourlyStore(failed: number): Promise<{ store: ObjectStore; reads: string[] }> {
  const root = mkdtempSync(join(tmpdir(), 'lifeboat-ui-'));
  const local = new LocalStore(root);
  for (let h = 40; h >= 1; h--) {
    const c = catalog(`b-${String(h).padStart(2, '0')}`, h, h <= failed ? 'Failed' : 'Completed');
    await writeCatalog(local, c);
    const written = new Date(c.completedAt);
    utimesSync(join(root, Layout.catalog(cluster, c.backupId)), written, written);
  }
  const reads: string[] = [];
  // The real store, counting the catalogs read.
  const store: ObjectStore = Object.assign(Object.create(local) as ObjectStore, {
    get: (key: string) => {
      if (key.endsWith('/catalog.json')) reads.push(key);
      return local.get(key);
    },
  });
  return { store, reads };
}

describe('ui: the cluster list reads only the catalogs it needs', () => {
  it('finds the newest backup, the last Completed one and the interval in the newest catalogs', async () => {
    const { store, reads } = await hourlyStore(0);
    const [s] = await loadClusterSummaries(store, new Date(now));
    assert.equal(s?.backups, 40);
    assert.equal(s?.newest?.backupId, 'b-01');
    assert.equal(s?.lastGood?.backupId, 'b-01');
    assert.equal(s?.rpo.rpoMs, HOUR);
    assert.equal(s?.rpo.allowedMs, 2 * HOUR);
    assert.equal(s?.rpo.overdue, false);
    assert.ok(reads.length <= 16, `read ${reads.length} of 40 catalogs`);
  });

  it('reads further back when the newest backups all failed, and calls the cluster overdue', async () => {
    const { store, reads } = await hourlyStore(20);
    const [s] = await loadClusterSummaries(store, new Date(now));
    assert.equal(s?.newest?.backupId, 'b-01');
    assert.equal(s?.newest?.phase, 'Failed');
    assert.equal(s?.lastGood?.backupId, 'b-21');
    assert.equal(s?.rpo.rpoMs, 21 * HOUR);
    assert.equal(s?.rpo.overdue, true);
    assert.ok(reads.length > 16 && reads.length <= 32, `read ${reads.length} of 40 catalogs`);
  });
});
