import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { catalogDigest } from '../../../shared/catalog/catalog-format.js';
import { Layout } from '../../../shared/catalog/layout.js';
import {
  decodePack,
  encodePack,
  encodeRecord,
  type PackRecord,
} from '../../../shared/catalog/pack.js';
import { loadSealer } from '../../../shared/catalog/data-key.js';
import { LocalKeyWrapper } from '../../../shared/crypto/key-wrapper.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import { loadBackup } from '../../../shared/catalog/load-backup.js';
import { latestGoodCatalog } from '../../../shared/catalog/catalog-io.js';
import { resolveBackup } from '../../../shared/pipeline/resolve-backup.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { policy, SOURCE } from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { goldenCopy } from '../../support/golden.js';
import { kubeHttp } from '../../../local/kube-requests.js';
import { seedWorkload } from '../../../local/sample-workload.js';
import { newKeyFile } from '../cli/cli-env.js';
import { explain, runCli } from '../../unit/cli/run-cli.js';
import { pathToFileURL } from 'node:url';

type Json = Record<string, unknown>;

/**
 * Attacks by someone who can write to the bucket but does not hold the key:
 * every one recomputes each digest consistently, so only the catalog's seal
 * (an HMAC under a key derived from the data key) can tell.
 */
describe('authenticated catalogs: a bucket writer without the key cannot forge a backup', function () {
  this.timeout(120_000);
  let store: LocalStore;
  let sealer: Sealer;
  const backupId = unique('auth');

  before(async () => {
    store = new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-auth-')));
    sealer = await loadSealer(store, new LocalKeyWrapper(newKeyFile()));
    const ns = unique('auth');
    await seedWorkload(kubeHttp('source'), ns);
    const { catalog } = await runBackup(
      {
        http: kubeHttp('source'),
        store,
        sealer,
        encryption: { keyId: sealer.keyId, wrappedBy: 'x' },
      },
      { backupId, cluster: SOURCE, policy: policy({ filters: { includeNamespaces: [ns] } }) },
    );
    assert.equal(catalog.phase, 'Completed', catalog.errors.join('; '));
  });

  /** Rewrites one pack's records and the catalog around it, every digest recomputed. */
  async function forge(
    id: string,
    change: (records: PackRecord[]) => PackRecord[],
    pick: (records: PackRecord[]) => boolean,
  ): Promise<void> {
    const key = Layout.catalog(SOURCE, id);
    const catalog = JSON.parse((await store.get(key)).toString('utf8')) as Json & {
      packs: { digest: string; objects: number; bytes: number }[];
      counts: { objects: number };
    };
    for (const entry of catalog.packs) {
      const { resource, records } = decodePack(
        await store.get(Layout.pack(entry.digest)),
        entry.digest,
      );
      if (!pick(records)) continue;
      const changed = change(records);
      const encoded = await encodePack(
        resource,
        changed.map((r) => {
          const { digest: _d, ...ref } = r.ref;
          return encodeRecord(ref, r.sealed ? { sealed: r.sealed } : { object: r.object! });
        }),
      );
      await store.put(Layout.pack(encoded.digest), encoded.gzipped);
      catalog.counts.objects += changed.length - entry.objects;
      Object.assign(entry, {
        digest: encoded.digest,
        objects: changed.length,
        bytes: encoded.gzipped.length,
      });
    }
    catalog['digest'] = catalogDigest(catalog);
    await store.put(key, JSON.stringify(catalog));
  }

  /** A copy of the backup under another id, seal and all. */
  async function copy(to: string): Promise<void> {
    for await (const info of store.list(Layout.backupDir(SOURCE, backupId))) {
      const rest = info.key.slice(Layout.backupDir(SOURCE, backupId).length);
      await store.put(`${Layout.backupDir(SOURCE, to)}${rest}`, await store.get(info.key));
    }
  }

  /** Makes the copy at `id` claim to be that backup, every digest recomputed (what a bucket writer can do). */
  async function claimAs(id: string, extra: Json = {}): Promise<void> {
    const key = Layout.catalog(SOURCE, id);
    const catalog = { ...(JSON.parse((await store.get(key)).toString()) as Json), ...extra };
    catalog['backupId'] = id;
    catalog['digest'] = catalogDigest(catalog);
    await store.put(key, JSON.stringify(catalog));
  }

  const isConfigMap = (r: PackRecord): boolean => r.ref.kind === 'ConfigMap';
  const isSecret = (r: PackRecord): boolean => r.ref.kind === 'Secret';

  it('a backup written today is sealed, and authenticates with the key', async () => {
    assert.ok(await store.exists(Layout.seal(SOURCE, backupId)));
    const { authenticity } = await loadBackup(store, SOURCE, backupId, { sealer });
    assert.equal(authenticity, 'authenticated');
    const without = await loadBackup(store, SOURCE, backupId);
    assert.equal(without.authenticity, 'unverified');
  });

  it('refuses a pack rebuilt with consistent digests (a ConfigMap changed)', async () => {
    const id = unique('forged');
    await copy(id);
    // The copy's catalog names the original id: make it consistent, then change a ConfigMap.
    await forge(
      id,
      (records) =>
        records.map((r) =>
          isConfigMap(r) ? { ...r, object: { ...r.object!, data: { injected: 'yes' } } } : r,
        ),
      (records) => records.some(isConfigMap),
    );
    await claimAs(id);
    // Every digest holds: without the key it reads; with it, it does not authenticate.
    assert.equal((await loadBackup(store, SOURCE, id)).authenticity, 'unverified');
    await assert.rejects(loadBackup(store, SOURCE, id, { sealer }), /does not authenticate/);
    await assert.rejects(
      loadBackup(store, SOURCE, id, { requireAuthenticated: true }),
      /unverified: only a catalog sealed/,
    );
  });

  it('refuses a catalog copied under another id', async () => {
    const id = unique('copied');
    await copy(id);
    await assert.rejects(
      loadBackup(store, SOURCE, id, { sealer }),
      /not where that backup's catalog belongs/,
    );
  });

  it('refuses an unsealed catalog for automatic restores, a forged seal everywhere', async () => {
    const id = unique('unsealed');
    await copy(id);
    await claimAs(id);
    await store.delete(Layout.seal(SOURCE, id));
    assert.equal((await loadBackup(store, SOURCE, id, { sealer })).authenticity, 'unauthenticated');
    await assert.rejects(
      loadBackup(store, SOURCE, id, { sealer, requireAuthenticated: true }),
      /is unauthenticated/,
    );
    await store.put(
      Layout.seal(SOURCE, id),
      JSON.stringify({ keyId: sealer.keyId, mac: 'ab'.repeat(32) }),
    );
    await assert.rejects(loadBackup(store, SOURCE, id, { sealer }), /does not authenticate/);
    // A seal naming another data key than the catalog's is forged too, key or no key.
    await store.put(
      Layout.seal(SOURCE, id),
      JSON.stringify({ keyId: 'dek-0000000000000000', mac: 'ab' }),
    );
    await assert.rejects(loadBackup(store, SOURCE, id), /forged/);
  });

  it('"the latest backup" of a restore message or a deletion is the latest sealed one: a planted newer catalog is skipped', async () => {
    const planted = unique('zzz-planted');
    await copy(planted);
    await claimAs(planted, { completedAt: '2099-01-01T00:00:00.000Z' });
    await store.delete(Layout.seal(SOURCE, planted));
    const chosen = await resolveBackup(store, { backup: { latestOf: SOURCE } }, sealer);
    assert.notEqual(chosen.backupId, planted);
    assert.equal(
      (await loadBackup(store, SOURCE, chosen.backupId, { sealer })).authenticity,
      'authenticated',
    );
    const { unreadable } = await latestGoodCatalog(store, SOURCE, {
      sealer,
      authenticatedOnly: true,
    });
    assert.ok(unreadable.some((u) => u.backupId === planted && /unauthenticated/.test(u.reason)));
    // Without the key nothing can be shown authentic, so nothing is chosen.
    await assert.rejects(
      resolveBackup(store, { backup: { latestOf: SOURCE } }),
      /no authenticated Completed backup/,
    );
    await store.delete(Layout.catalog(SOURCE, planted));
  });

  it('refuses a Secret record that is not sealed', async () => {
    const id = unique('plain');
    await copy(id);
    await forge(
      id,
      (records) =>
        records.map((r) =>
          isSecret(r)
            ? {
                ref: r.ref,
                object: {
                  apiVersion: 'v1',
                  kind: 'Secret',
                  metadata: { name: r.ref.name, namespace: r.ref.namespace! },
                  data: { password: 'cGxhaW4=' },
                },
              }
            : r,
        ),
      (records) => records.some(isSecret),
    );
    await claimAs(id);
    await store.delete(Layout.seal(SOURCE, id));
    await assert.rejects(loadBackup(store, SOURCE, id), /unsealed/);
  });

  it('refuses a sealed payload moved from one Secret to another', async () => {
    const { records } = await loadBackup(store, SOURCE, backupId, { sealer });
    const secrets = records.filter(isSecret);
    assert.ok(secrets.length >= 2);
    const { manifestOf } = await import('../../../shared/catalog/load-backup.js');
    const moved: PackRecord = { ref: secrets[0]!.ref, sealed: secrets[1]!.sealed! };
    assert.throws(() => manifestOf(moved, sealer), /failed authentication/);
    assert.equal(manifestOf(secrets[0]!, sealer).metadata.name, secrets[0]!.ref.name);
  });

  it('lifeboat catalog seal authenticates a backup written before seals, after verifying it in full', async () => {
    const { dir, keyFile } = await goldenCopy('format-1');
    const url = pathToFileURL(join(dir, 'store')).href;
    const before = await runCli([
      'catalog',
      'verify',
      '--all',
      '--store',
      url,
      '--key-file',
      keyFile,
    ]);
    assert.equal(before.code, 0, explain(before));
    assert.match(before.stdout, /golden\s+Completed\s+verified\s+.*unauthenticated/);
    const sealed = await runCli([
      'catalog',
      'seal',
      '--all',
      '--store',
      url,
      '--key-file',
      keyFile,
    ]);
    assert.equal(sealed.code, 0, explain(sealed));
    assert.match(sealed.stdout, /golden\s+Completed\s+verified\s+.*sealed now/);
    const after = await runCli([
      'catalog',
      'verify',
      '--all',
      '--store',
      url,
      '--key-file',
      keyFile,
    ]);
    assert.match(after.stdout, /golden\s+Completed\s+verified\s+.*authenticated/);
    const golden = new LocalStore(join(dir, 'store'));
    const key = await loadSealer(golden, new LocalKeyWrapper(keyFile));
    const loaded = await loadBackup(golden, SOURCE, 'golden', {
      sealer: key,
      requireAuthenticated: true,
    });
    assert.equal(loaded.authenticity, 'authenticated');
    const noKey = await runCli(['catalog', 'seal', '--all', '--store', url]);
    assert.equal(noKey.code, 2, explain(noKey));
  });
});
