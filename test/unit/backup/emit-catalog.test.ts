import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitCatalog } from '../../../shared/backup/emit-catalog.js';
import { writeManifestPart, writePlan, type BackupPlan } from '../../../shared/backup/parts.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { validate } from '../../../shared/validate.js';

const cluster = { project: 'local', location: 'local', name: 'source' };
const policy = validate(BackupPolicy, { name: 'p', projects: ['local'] }, 'policy');
const resource = (name: string): BackupPlan['shards'][number]['resource'] => ({
  group: '',
  version: 'v1',
  resource: name,
  kind: name,
  namespaced: true,
});

async function backupWith(
  parts: { ok: boolean; objects: number }[],
  extra: Partial<BackupPlan> = {},
): Promise<{ store: LocalStore; backupId: string }> {
  const store = new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-emit-')));
  const backupId = 'b1';
  const shards = parts.map((_, i) => ({ shardId: `s${i}`, resource: resource(`r${i}`) }));
  const plan: BackupPlan = {
    backupId,
    cluster,
    policy,
    kubernetesVersion: 'v1.33.0',
    startedAt: new Date().toISOString(),
    shards,
    volumes: [],
    warnings: [],
    ...extra,
  };
  await writePlan(store, plan);
  for (const [i, p] of parts.entries()) {
    await writeManifestPart(store, plan, {
      shardId: `s${i}`,
      segment: 0,
      ok: p.ok,
      done: true,
      packs: [],
      objects: p.objects,
      secrets: 0,
      ...(p.ok ? {} : { error: 'LIST failed: 403 Forbidden' }),
    });
  }
  return { store, backupId };
}

describe('emitCatalog: the phase says what the backup holds', () => {
  it('a backup whose every shard failed is Failed, not PartiallyFailed', async () => {
    const { store, backupId } = await backupWith([
      { ok: false, objects: 0 },
      { ok: false, objects: 0 },
    ]);
    const result = await emitCatalog(store, cluster, backupId, policy);
    assert.ok(result.status === 'written');
    assert.equal(result.catalog.phase, 'Failed');
    assert.equal(result.catalog.errors.length, 2);
  });

  it('a backup that matched nothing is Failed and says so', async () => {
    const { store, backupId } = await backupWith([{ ok: true, objects: 0 }]);
    const result = await emitCatalog(store, cluster, backupId, policy);
    assert.ok(result.status !== 'waiting');
    assert.equal(result.catalog.phase, 'Failed');
    assert.match(result.catalog.errors.join(' '), /nothing was exported/);
  });

  it('one failed shard beside exported objects is PartiallyFailed; none failed is Completed', async () => {
    const partial = await backupWith([
      { ok: true, objects: 3 },
      { ok: false, objects: 0 },
    ]);
    const p = await emitCatalog(partial.store, cluster, partial.backupId, policy);
    assert.ok(p.status !== 'waiting');
    assert.equal(p.catalog.phase, 'PartiallyFailed');
    const whole = await backupWith([{ ok: true, objects: 3 }]);
    const w = await emitCatalog(whole.store, cluster, whole.backupId, policy);
    assert.ok(w.status !== 'waiting');
    assert.equal(w.catalog.phase, 'Completed');
  });

  it('refuses to write the catalog of a backup retention is deleting', async () => {
    const { store, backupId } = await backupWith([{ ok: true, objects: 3 }]);
    await store.createIfAbsent(Layout.expiring(cluster, backupId), '{}');
    await assert.rejects(
      emitCatalog(store, cluster, backupId, policy),
      /expired and is being deleted/,
    );
    assert.equal(await store.exists(Layout.catalog(cluster, backupId)), false);
  });
});

describe("emitCatalog: how Secrets were sealed is the plan's to say", () => {
  const planned = {
    keyId: 'k-planned',
    wrappedBy: 'kms:projects/p/locations/l/keyRings/r/cryptoKeys/k',
  };

  it("records the plan's encryption, whichever process finishes the catalog", async () => {
    const { store, backupId } = await backupWith([{ ok: true, objects: 1 }], {
      encryption: planned,
    });
    const other = { keyId: 'k-other', wrappedBy: 'local:0123' };
    const result = await emitCatalog(store, cluster, backupId, policy, { encryption: other });
    assert.ok(result.status === 'written');
    assert.deepEqual(result.catalog.encryption, planned);
  });

  it("falls back to the finishing process's key for a plan that recorded none", async () => {
    const { store, backupId } = await backupWith([{ ok: true, objects: 1 }]);
    const other = { keyId: 'k-other', wrappedBy: 'local:0123' };
    const result = await emitCatalog(store, cluster, backupId, policy, { encryption: other });
    assert.ok(result.status === 'written');
    assert.deepEqual(result.catalog.encryption, other);
  });
});
