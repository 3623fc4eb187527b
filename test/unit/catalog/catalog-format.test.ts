import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CATALOG_FORMAT,
  catalogDigest,
  upgradeCatalog,
} from '../../../shared/catalog/catalog-format.js';
import {
  latestGoodCatalog,
  readCatalog,
  readCatalogs,
  writeCatalog,
  type UnsignedCatalog,
} from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { decodePack, encodePack, encodeRecord, PACK_FORMAT } from '../../../shared/catalog/pack.js';
import { NewerFormatError, NotFoundError, PermanentError } from '../../../shared/errors.js';
import { BackupPolicy, type BackupPhase } from '../../../shared/messages/common.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { validate } from '../../../shared/validate.js';
import { LIFEBOAT_VERSION } from '../../../shared/version.js';
import { goldenCopy } from '../../support/golden.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

/** The cluster and backup every golden store holds. */
const SOURCE = { project: 'local', location: 'local', name: 'source' };
const GOLDEN = 'golden';

const CLUSTER = { project: 'my-project', location: 'us-central1', name: 'prod' };

type Json = Record<string, unknown>;

const tempStore = (): LocalStore =>
  new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-catalog-format-')));

async function readStored(store: ObjectStore, cluster: typeof SOURCE, id: string): Promise<Json> {
  return JSON.parse((await store.get(Layout.catalog(cluster, id))).toString('utf8')) as Json;
}

async function putStored(
  store: ObjectStore,
  cluster: typeof SOURCE,
  id: string,
  body: unknown,
): Promise<void> {
  await store.put(Layout.catalog(cluster, id), JSON.stringify(body, null, 1));
}

function unsigned(backupId: string, completedAt: string, phase: BackupPhase): UnsignedCatalog {
  return {
    kind: 'Catalog',
    backupId,
    cluster: CLUSTER,
    kubernetesVersion: 'v1.33.0',
    policy: validate(BackupPolicy, { name: 'nightly', projects: [CLUSTER.project] }, 'policy'),
    phase,
    startedAt: new Date(Date.parse(completedAt) - 60_000).toISOString(),
    completedAt,
    counts: { objects: 1, packs: 0, packBytes: 0, volumes: 0, secrets: 0 },
    resources: [
      {
        group: '',
        version: 'v1',
        resource: 'configmaps',
        kind: 'ConfigMap',
        namespaced: true,
        objects: 1,
      },
    ],
    packs: [],
    volumes: [],
    warnings: [],
    errors: phase === 'Completed' ? [] : ['something failed'],
  };
}

/** A rejection with this class whose message matches every pattern. */
async function rejects(
  promise: Promise<unknown> | (() => unknown),
  kind: new (...args: never[]) => Error,
  ...patterns: (RegExp | string)[]
): Promise<Error> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof kind, `expected a ${kind.name}, got ${String(caught)}`);
  for (const p of patterns) {
    if (typeof p === 'string')
      assert.ok(caught.message.includes(p), `"${caught.message}" lacks "${p}"`);
    else assert.match(caught.message, p);
  }
  return caught;
}

describe('catalog formats', () => {
  it('reads the format-1 golden catalog as format 1, written by lifeboat 0.1.0', async () => {
    const { store } = await goldenCopy('format-1');
    const raw = await readStored(store, SOURCE, GOLDEN);
    // It really is format 1: the protocol's apiVersion, no format of its own.
    assert.equal(raw['apiVersion'], 'lifeboat.dev/v1');
    assert.equal(raw['formatVersion'], undefined);

    const catalog = await readCatalog(store, SOURCE, GOLDEN);
    assert.equal(catalog.formatVersion, 1);
    assert.equal(catalog.writtenBy, 'lifeboat 0.1.0');
    assert.equal(catalog.backupId, GOLDEN);
    assert.deepEqual(catalog.cluster, SOURCE);
    assert.equal('apiVersion' in catalog, false, 'the protocol apiVersion is not carried over');
    assert.equal(catalog.digest, raw['digest']);
    assert.equal(catalogDigest(raw), raw['digest']);
  });

  it('reads the format-2 golden catalog as format 2, with the writer it records', async () => {
    const { store } = await goldenCopy('format-2');
    const raw = await readStored(store, SOURCE, GOLDEN);
    assert.equal(raw['formatVersion'], 2);
    const catalog = await readCatalog(store, SOURCE, GOLDEN);
    assert.equal(catalog.formatVersion, 2);
    assert.equal(catalog.writtenBy, raw['writtenBy']);
    assert.match(catalog.writtenBy, /^lifeboat \d+\.\d+\.\d+/);
    assert.equal(catalog.counts.objects, (raw['counts'] as Json)['objects']);
  });

  it('reads the format-3 golden catalog as a point in time: its revision, every resource at it', async () => {
    const { store } = await goldenCopy('format-3');
    const catalog = await readCatalog(store, SOURCE, GOLDEN);
    assert.equal(catalog.formatVersion, 3);
    assert.match(catalog.revision ?? '', /^\d+$/);
    assert.ok(catalog.resources.length > 0);
    assert.ok(catalog.resources.every((r) => r.atRevision === true));
  });

  it('writes format 3, signed by this version, and reads it back equal', async () => {
    const store = tempStore();
    const written = await writeCatalog(
      store,
      unsigned('nightly-1', '2026-06-15T02:00:00.000Z', 'Completed'),
    );
    assert.equal(CATALOG_FORMAT, 3);
    assert.equal(written.formatVersion, 3);
    assert.equal(written.writtenBy, `lifeboat ${pkg.version}`);

    const raw = await readStored(store, CLUSTER, 'nightly-1');
    assert.equal(raw['formatVersion'], 3);
    assert.equal(raw['writtenBy'], `lifeboat ${pkg.version}`);
    assert.equal(raw['apiVersion'], undefined);
    assert.equal(raw['digest'], catalogDigest(raw));

    assert.deepEqual(await readCatalog(store, CLUSTER, 'nightly-1'), written);
  });

  it('keeps the first catalog when a second writer races for the same backup', async () => {
    const store = tempStore();
    const first = await writeCatalog(
      store,
      unsigned('nightly-1', '2026-06-15T02:00:00.000Z', 'Completed'),
    );
    const second = await writeCatalog(
      store,
      unsigned('nightly-1', '2026-06-15T03:00:00.000Z', 'Failed'),
    );
    assert.deepEqual(second, first);
    assert.equal((await readCatalog(store, CLUSTER, 'nightly-1')).phase, 'Completed');
  });

  it('says which backup has no catalog', async () => {
    await rejects(readCatalog(tempStore(), CLUSTER, 'nightly-9'), NotFoundError, 'nightly-9');
  });

  describe('the digest is checked over the catalog as stored', () => {
    const edits: [string, (raw: Json) => void][] = [
      [
        'the phase',
        (raw) => (raw['phase'] = raw['phase'] === 'Completed' ? 'Failed' : 'Completed'),
      ],
      ['a count', (raw) => ((raw['counts'] as Json)['objects'] = 1000)],
      ['the policy TTL', (raw) => ((raw['policy'] as Json)['ttlDays'] = 3650)],
      ['a pack digest', (raw) => ((raw['packs'] as Json[])[0]!['digest'] = 'f'.repeat(64))],
      ['a warning added', (raw) => (raw['warnings'] as string[]).push('nothing to see')],
      // A field a later policy schema might add with a default.
      ['a policy field added', (raw) => ((raw['policy'] as Json)['snapshotType'] = 'STANDARD')],
    ];

    for (const format of ['format-1', 'format-2', 'format-3']) {
      for (const [what, edit] of edits) {
        it(`${format}: refuses ${what} changed after the backup`, async () => {
          const { store } = await goldenCopy(format);
          const raw = await readStored(store, SOURCE, GOLDEN);
          edit(raw);
          await putStored(store, SOURCE, GOLDEN, raw);
          await rejects(
            readCatalog(store, SOURCE, GOLDEN),
            PermanentError,
            'modified after the backup',
          );
        });
      }
    }

    it('refuses a format-1 catalog whose policy lost a field that has a default, though defaulting would restore it', async () => {
      const { store } = await goldenCopy('format-1');
      const original = await readStored(store, SOURCE, GOLDEN);
      const policy = original['policy'] as Json;
      // The stored value is the default: defaulting before hashing would hide the removal.
      assert.equal(policy['snapshotTimeoutSeconds'], 480);

      const edited = structuredClone(original);
      delete (edited['policy'] as Json)['snapshotTimeoutSeconds'];
      await putStored(store, SOURCE, GOLDEN, edited);
      await rejects(
        readCatalog(store, SOURCE, GOLDEN),
        PermanentError,
        'modified after the backup',
        String(original['digest']),
      );

      // The unmodified catalog, written back as it was, passes.
      await putStored(store, SOURCE, GOLDEN, original);
      const catalog = await readCatalog(store, SOURCE, GOLDEN);
      assert.equal(catalog.policy.snapshotTimeoutSeconds, 480);
    });

    it('a catalog stored without a defaulted field is read as stored and upgraded on a copy', async () => {
      const { store } = await goldenCopy('format-1');
      const raw = await readStored(store, SOURCE, GOLDEN);
      delete (raw['policy'] as Json)['snapshotTimeoutSeconds'];
      delete (raw['policy'] as Json)['restoreOnRecreate'];
      raw['digest'] = catalogDigest(raw); // as if the writer never had these fields
      const before = structuredClone(raw);

      const catalog = upgradeCatalog(raw, 'test catalog');
      assert.deepEqual(raw, before, 'reading changed the parsed catalog');
      assert.equal(catalog.digest, before['digest']);
      assert.equal(catalog.policy.snapshotTimeoutSeconds, 480);
      assert.equal(catalog.policy.restoreOnRecreate, false);
    });
  });

  describe('formats this version cannot read', () => {
    it('refuses a newer format with the version that wrote it and the formats it reads', async () => {
      const store = tempStore();
      const newer = {
        formatVersion: 4,
        writtenBy: 'lifeboat 0.9.0',
        kind: 'Catalog',
        backupId: 'nightly-1',
        cluster: CLUSTER,
        somethingNew: { shape: 'unknown to this version' },
        digest: '0'.repeat(64), // not checked: the format is read first
      };
      await putStored(store, CLUSTER, 'nightly-1', newer);
      const error = await rejects(
        readCatalog(store, CLUSTER, 'nightly-1'),
        NewerFormatError,
        'format 4',
        'lifeboat 0.9.0',
        `formats 1 to ${CATALOG_FORMAT}`,
        `lifeboat ${LIFEBOAT_VERSION} reads`,
      );
      assert.doesNotMatch(error.message, /modified after the backup/);
    });

    const unrecognised: [string, (raw: Json) => void][] = [
      ['no format and no apiVersion', (raw) => delete raw['apiVersion']],
      ['another apiVersion', (raw) => (raw['apiVersion'] = 'example.com/v1')],
      ['a format that is not a number', (raw) => (raw['formatVersion'] = '2')],
    ];
    for (const [what, edit] of unrecognised) {
      it(`refuses a catalog with ${what} as not a Lifeboat catalog`, async () => {
        const { store } = await goldenCopy('format-1');
        const raw = await readStored(store, SOURCE, GOLDEN);
        edit(raw);
        await putStored(store, SOURCE, GOLDEN, raw);
        const error = await rejects(
          readCatalog(store, SOURCE, GOLDEN),
          PermanentError,
          'no recognisable format version',
        );
        assert.equal(error instanceof NewerFormatError, false);
      });
    }

    it('refuses JSON that is not an object, and text that is not JSON', async () => {
      const store = tempStore();
      await putStored(store, CLUSTER, 'nightly-1', ['Catalog']);
      await rejects(readCatalog(store, CLUSTER, 'nightly-1'), PermanentError, 'not a JSON object');
      await store.put(Layout.catalog(CLUSTER, 'nightly-2'), '{"kind": "Catalog", ');
      await rejects(readCatalog(store, CLUSTER, 'nightly-2'), PermanentError, 'not valid JSON');
    });
  });

  describe('reading every catalog of a cluster', () => {
    async function storeWithOneCorrupted(): Promise<LocalStore> {
      const store = tempStore();
      await writeCatalog(store, unsigned('b1', '2026-06-11T02:00:00.000Z', 'Completed'));
      await writeCatalog(store, unsigned('b2', '2026-06-12T02:00:00.000Z', 'Completed'));
      await writeCatalog(store, unsigned('b3', '2026-06-13T02:00:00.000Z', 'Failed'));
      await writeCatalog(store, unsigned('b4', '2026-06-14T02:00:00.000Z', 'Completed'));
      await store.put(Layout.catalog(CLUSTER, 'b4'), 'this is not JSON {');
      return store;
    }

    it('returns the readable catalogs oldest first and the unreadable one with a reason', async () => {
      const { catalogs, unreadable } = await readCatalogs(await storeWithOneCorrupted(), CLUSTER);
      assert.deepEqual(
        catalogs.map((c) => c.backupId),
        ['b1', 'b2', 'b3'],
      );
      assert.equal(unreadable.length, 1);
      assert.equal(unreadable[0]?.backupId, 'b4');
      assert.match(unreadable[0]?.reason ?? '', /not valid JSON/);
      assert.equal(unreadable[0]?.retryable, false);
    });

    it('reports a tampered catalog as unreadable too', async () => {
      const store = await storeWithOneCorrupted();
      const raw = await readStored(store, CLUSTER, 'b1');
      raw['phase'] = 'Failed';
      await putStored(store, CLUSTER, 'b1', raw);
      const { catalogs, unreadable } = await readCatalogs(store, CLUSTER);
      assert.deepEqual(
        catalogs.map((c) => c.backupId),
        ['b2', 'b3'],
      );
      assert.deepEqual(
        unreadable.map((u) => u.backupId),
        ['b1', 'b4'],
      );
      assert.match(unreadable[0]?.reason ?? '', /modified after the backup/);
    });

    it('latestGoodCatalog answers with the newest readable Completed catalog and reports the one it skipped', async () => {
      const { catalog, unreadable } = await latestGoodCatalog(
        await storeWithOneCorrupted(),
        CLUSTER,
      );
      // b4 is newer but unreadable, b3 is newer but Failed.
      assert.equal(catalog?.backupId, 'b2');
      assert.equal(catalog?.phase, 'Completed');
      assert.deepEqual(
        unreadable.map((u) => u.backupId),
        ['b4'],
      );
    });

    it('latestGoodCatalog answers nothing for a cluster without backups', async () => {
      const { catalog, unreadable } = await latestGoodCatalog(tempStore(), CLUSTER);
      assert.equal(catalog, undefined);
      assert.deepEqual(unreadable, []);
    });
  });
});

describe('pack formats', () => {
  const resource = {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
  };
  const record = encodeRecord(
    { ...resource, namespace: 'default', name: 'settings' },
    {
      object: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'default' },
        data: { mode: 'fast' },
      },
    },
  );

  const headerOf = (gzipped: Buffer): Json =>
    JSON.parse(gunzipSync(gzipped).toString('utf8').split('\n')[0] ?? '') as Json;

  it('writes the current pack format and decodes what it wrote', async () => {
    const pack = await encodePack(resource, [record]);
    assert.equal(headerOf(pack.gzipped)['formatVersion'], PACK_FORMAT);
    const decoded = decodePack(pack.gzipped, pack.digest);
    assert.deepEqual(decoded.resource, resource);
    assert.equal(decoded.records.length, 1);
    assert.equal(decoded.records[0]?.object?.metadata.name, 'settings');
    assert.equal(decoded.records[0]?.ref.digest, record.digest);
  });

  it('refuses a pack whose object was changed', async () => {
    const pack = await encodePack(resource, [record]);
    const tampered = gzipSync(
      gunzipSync(pack.gzipped).toString('utf8').replace('"fast"', '"slow"'),
    );
    assert.throws(
      () => decodePack(tampered, pack.digest),
      (e: unknown) => e instanceof PermanentError && /modified after the backup/.test(e.message),
    );
  });

  it('refuses a newer pack format before parsing its records', () => {
    const header = JSON.stringify({ formatVersion: 99, kind: 'Pack', resource, objects: 1 });
    // A record line this version could not parse: the format must be refused first.
    const gzipped = gzipSync(`${header}\n{{{ records of a format this version has never seen\n`);
    assert.throws(
      () => decodePack(gzipped, 'a'.repeat(64)),
      (e: unknown) =>
        e instanceof NewerFormatError &&
        /pack format 99/.test(e.message) &&
        e.message.includes(`formats 1 to ${PACK_FORMAT}`) &&
        !/not valid JSON/.test(e.message),
    );
  });

  it('refuses a pack whose header names no format', () => {
    const header = JSON.stringify({ kind: 'Pack', resource, objects: 0 });
    assert.throws(
      () => decodePack(gzipSync(`${header}\n`), 'a'.repeat(64)),
      (e: unknown) => e instanceof PermanentError,
    );
  });

  it('still decodes every format-1 pack of the format-1 golden store', async () => {
    const { store } = await goldenCopy('format-1');
    const catalog = await readCatalog(store, SOURCE, GOLDEN);
    assert.ok(catalog.packs.length > 0);
    let objects = 0;
    for (const entry of catalog.packs) {
      const gzipped = await store.get(Layout.pack(entry.digest));
      const header = headerOf(gzipped);
      assert.equal(header['formatVersion'], undefined, 'a format-1 header has no formatVersion');
      assert.equal(header['apiVersion'], 'lifeboat.dev/v1');
      const decoded = decodePack(gzipped, entry.digest);
      assert.deepEqual(decoded.resource, entry.resource);
      assert.equal(decoded.records.length, entry.objects);
      objects += decoded.records.length;
    }
    assert.equal(objects, catalog.counts.objects);
  });
});
