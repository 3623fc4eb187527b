import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitCatalog } from '../../../shared/backup/emit-catalog.js';
import { PartsReader } from '../../../shared/backup/parts-reader.js';
import { writeManifestPart, writePlan, type BackupPlan } from '../../../shared/backup/parts.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { validate } from '../../../shared/validate.js';

/** A real file store that counts how often each key is read. */
class ReadCountingStore extends LocalStore {
  readonly reads = new Map<string, number>();

  override async get(key: string): Promise<Buffer> {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
    return super.get(key);
  }

  partReads(): number {
    let n = 0;
    for (const [key, count] of this.reads) if (key.includes('/parts/manifests/')) n += count;
    return n;
  }
}

const cluster = { project: 'local', location: 'local', name: 'source' };
const policy = validate(BackupPolicy, { name: 'p', projects: ['local'] }, 'policy');
const SHARDS = 60;

async function plannedBackup(store: LocalStore): Promise<BackupPlan> {
  return writePlan(store, {
    backupId: 'b1',
    cluster,
    policy,
    kubernetesVersion: 'v1.33.0',
    startedAt: new Date().toISOString(),
    shards: Array.from({ length: SHARDS }, (_, i) => ({
      shardId: `s${i}`,
      resource: { group: '', version: 'v1', resource: `r${i}`, kind: `R${i}`, namespaced: true },
    })),
    volumes: [],
    warnings: [],
  });
}

/** Every part reported one by one, emitCatalog called after each, as PartDone messages do. */
async function reportEveryPart(store: ReadCountingStore, reader?: PartsReader): Promise<string> {
  const plan = await plannedBackup(store);
  let status = '';
  for (let i = 0; i < SHARDS; i++) {
    await writeManifestPart(store, plan, {
      shardId: `s${i}`,
      segment: 0,
      ok: true,
      done: true,
      packs: [],
      objects: 1,
      secrets: 0,
    });
    status = (await emitCatalog(store, cluster, 'b1', undefined, reader ? { reader } : {})).status;
  }
  return status;
}

describe('emitCatalog reads each part once per instance', () => {
  it('with one reader, each part body is read once over all the PartDone messages', async () => {
    const store = new ReadCountingStore(mkdtempSync(join(tmpdir(), 'lifeboat-parts-')));
    assert.equal(await reportEveryPart(store, new PartsReader(store)), 'written');
    assert.equal(store.partReads(), SHARDS);
    assert.equal(store.reads.get(Layout.plan(cluster, 'b1')), 1, 'the plan is read once');
    const catalog = JSON.parse(
      (await store.get(Layout.catalog(cluster, 'b1'))).toString('utf8'),
    ) as { counts: { objects: number }; phase: string };
    assert.equal(catalog.counts.objects, SHARDS);
    assert.equal(catalog.phase, 'Completed');
  });

  it('without one (a cold instance per message), the reads grow with the square of the parts', async () => {
    const store = new ReadCountingStore(mkdtempSync(join(tmpdir(), 'lifeboat-parts-')));
    assert.equal(await reportEveryPart(store), 'written');
    assert.equal(store.partReads(), (SHARDS * (SHARDS + 1)) / 2);
  });

  it('forgets the oldest backup beyond its capacity, and reads it again when asked', async () => {
    const store = new ReadCountingStore(mkdtempSync(join(tmpdir(), 'lifeboat-parts-')));
    const reader = new PartsReader(store, 1);
    await writePlan(store, { ...(await plannedBackup(store)), backupId: 'b2' });
    store.reads.clear();
    await reader.read(cluster, 'b1');
    await reader.read(cluster, 'b2');
    await reader.read(cluster, 'b1');
    assert.equal(store.reads.get(Layout.plan(cluster, 'b1')), 2);
    assert.equal(store.reads.get(Layout.plan(cluster, 'b2')), 1);
  });
});
