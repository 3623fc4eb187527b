import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffBackups, type BackupDiff } from '../../../shared/catalog/backup-diff.js';
import { writeCatalog } from '../../../shared/catalog/catalog-io.js';
import { fieldChanges } from '../../../shared/catalog/field-diff.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { encodePack, encodeRecord } from '../../../shared/catalog/pack.js';
import {
  describeSecretValue,
  secretFieldChanges,
} from '../../../shared/catalog/secret-field-diff.js';
import { secretIdentity, Sealer } from '../../../shared/crypto/sealer.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';
import type { ResourceRef } from '../../../shared/messages/backup.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { formatDiff } from '../../../cli/diff-view.js';
import { validate } from '../../../shared/validate.js';

const CLUSTER = { project: 'my-project', location: 'us-central1', name: 'prod' };

/** A local store that remembers which keys were read. */
class ReadingStore extends LocalStore {
  readonly reads: string[] = [];
  override async get(key: string): Promise<Buffer> {
    this.reads.push(key);
    return super.get(key);
  }
  packReads(): string[] {
    return this.reads.filter((k) => k.startsWith('objects/'));
  }
}

const RESOURCES: Record<string, ResourceRef> = {
  ConfigMap: {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
  },
  Secret: { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  Deployment: {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
  },
  Service: { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
};

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const configMap = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'shop' },
  data,
});
const secret = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'shop' },
  type: 'Opaque',
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});
const deployment = (name: string, replicas: number): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop', labels: { app: name } },
  spec: { replicas, selector: { matchLabels: { app: name } } },
});
const service = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { ports: [{ port: 80 }] },
});

/** Writes a backup as the export does: one pack per resource, Secrets sealed, the catalog last. */
async function writeBackup(
  store: LocalStore,
  backupId: string,
  objects: KubeObject[],
  sealer: Sealer,
  options: { unsealedSecrets?: boolean } = {},
): Promise<void> {
  const kinds = [...new Set(objects.map((o) => o.kind))];
  const packs = [];
  for (const kind of kinds) {
    const resource = RESOURCES[kind]!;
    const records = objects
      .filter((o) => o.kind === kind)
      .map((o) => {
        const ref = { ...resource, namespace: o.metadata.namespace, name: o.metadata.name };
        const id = secretIdentity(o.metadata.namespace, o.metadata.name);
        return kind === 'Secret' && !options.unsealedSecrets
          ? encodeRecord(ref, { sealed: sealer.seal(Buffer.from(JSON.stringify(o)), id) })
          : encodeRecord(ref, { object: o });
      });
    const pack = await encodePack(resource, records);
    await store.createIfAbsent(Layout.pack(pack.digest), pack.gzipped);
    packs.push({
      digest: pack.digest,
      bytes: pack.gzipped.length,
      objects: pack.objects,
      shardId: resource.resource,
      resource,
    });
  }
  await writeCatalog(store, {
    kind: 'Catalog',
    backupId,
    cluster: CLUSTER,
    kubernetesVersion: 'v1.33.0',
    policy: validate(BackupPolicy, { name: 'nightly', projects: ['my-project'] }, 'policy'),
    phase: 'Completed',
    startedAt: '2026-06-15T02:00:00.000Z',
    completedAt: '2026-06-15T02:01:00.000Z',
    counts: {
      objects: objects.length,
      packs: packs.length,
      packBytes: packs.reduce((n, p) => n + p.bytes, 0),
      volumes: 0,
      secrets: objects.filter((o) => o.kind === 'Secret').length,
    },
    encryption: { keyId: sealer.keyId, wrappedBy: 'local:test' },
    resources: kinds.map((k) => ({
      ...RESOURCES[k]!,
      objects: objects.filter((o) => o.kind === k).length,
    })),
    packs,
    volumes: [],
    warnings: [],
    errors: [],
  });
}

const side = (backupId: string) => ({ cluster: CLUSTER, backupId });
const names = (objects: { kind: string; name: string }[]): string[] =>
  objects.map((o) => `${o.kind}/${o.name}`);

describe('fieldChanges: the fields that differ, older value beside newer', () => {
  it('reports replace, add and remove with before and after at each path', () => {
    const before = { spec: { replicas: 2, paused: true, ports: [80, 443] } };
    const after = { spec: { replicas: 3, ports: [80], strategy: { type: 'Recreate' } } };
    const changes = fieldChanges(before, after);
    const byPath = new Map(changes.map((c) => [c.path, c]));
    assert.deepEqual(byPath.get('/spec/replicas'), {
      op: 'replace',
      path: '/spec/replicas',
      before: 2,
      after: 3,
    });
    assert.deepEqual(byPath.get('/spec/paused'), {
      op: 'remove',
      path: '/spec/paused',
      before: true,
    });
    assert.deepEqual(byPath.get('/spec/ports/1'), {
      op: 'remove',
      path: '/spec/ports/1',
      before: 443,
    });
    assert.deepEqual(byPath.get('/spec/strategy'), {
      op: 'add',
      path: '/spec/strategy',
      after: { type: 'Recreate' },
    });
    assert.equal(changes.length, 4);
  });

  it('finds nothing between equal objects', () => {
    assert.deepEqual(
      fieldChanges({ a: { b: [1, { c: 'x' }] } }, { a: { b: [1, { c: 'x' }] } }),
      [],
    );
  });
});

describe('secretFieldChanges: which keys of a Secret changed, never what they hold', () => {
  const before = {
    ...secret('db', { password: 'hunter2-old', user: 'app' }),
    metadata: {
      name: 'db',
      namespace: 'shop',
      labels: { tier: 'db' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":"aHVudGVy"}' },
    },
  };
  const after = {
    ...secret('db', { password: 'correct-horse-battery', token: 'tok-123' }),
    metadata: {
      name: 'db',
      namespace: 'shop',
      labels: { tier: 'database' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":"Y29ycmVj"}' },
    },
  };
  const changes = secretFieldChanges(before, after);
  const byPath = new Map(changes.map((c) => [c.path, c]));

  it('describes a changed, added and removed data entry by its decoded size', () => {
    assert.deepEqual(byPath.get('/data/password'), {
      op: 'replace',
      path: '/data/password',
      before: '(11 bytes)',
      after: '(21 bytes)',
      redacted: true,
    });
    assert.deepEqual(byPath.get('/data/token'), {
      op: 'add',
      path: '/data/token',
      after: '(7 bytes)',
      redacted: true,
    });
    assert.deepEqual(byPath.get('/data/user'), {
      op: 'remove',
      path: '/data/user',
      before: '(3 bytes)',
      redacted: true,
    });
  });

  it('describes annotations (last-applied-configuration copies the data) and shows labels', () => {
    const annotation = byPath.get(
      '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration',
    );
    assert.equal(annotation?.redacted, true);
    assert.equal(annotation?.before, '(19 bytes)');
    assert.deepEqual(byPath.get('/metadata/labels/tier'), {
      op: 'replace',
      path: '/metadata/labels/tier',
      before: 'db',
      after: 'database',
    });
  });

  it('leaves no value, plain or base64, anywhere in what it reports', () => {
    const text = JSON.stringify(changes);
    for (const value of ['hunter2-old', 'correct-horse-battery', 'tok-123', 'app'])
      for (const form of [value, b64(value)]) assert.ok(!text.includes(`"${form}"`), form);
    assert.ok(!text.includes('aHVudGVy') && !text.includes('Y29ycmVj'));
  });

  it('describes whole maps and other values by their shape', () => {
    assert.equal(describeSecretValue('/data', { a: 'x', b: 'y' }), '(2 keys)');
    assert.equal(describeSecretValue('/metadata/annotations/x', 'abc'), '(3 bytes)');
    assert.equal(describeSecretValue('/spec/list', [1, 2, 3]), '(3 items)');
    assert.equal(describeSecretValue('/immutable', true), '(a boolean)');
  });
});

describe('diffBackups: two backups compared by identity and digest', () => {
  const sealer = new Sealer('key-1', randomBytes(32));
  let store: ReadingStore;
  let diff: BackupDiff;

  before(async () => {
    store = new ReadingStore(mkdtempSync(join(tmpdir(), 'lifeboat-diff-')));
    await writeBackup(
      store,
      'monday',
      [
        configMap('settings', { colour: 'blue', size: 'L' }),
        configMap('old-flags', { beta: 'on' }),
        configMap('untouched', { a: '1' }),
        deployment('web', 2),
        deployment('api', 1),
        secret('db', { password: 'hunter2-old' }),
        secret('tls', { key: 'pem-bytes' }),
        service('web'),
      ],
      sealer,
    );
    await writeBackup(
      store,
      'tuesday',
      [
        configMap('settings', { colour: 'green', size: 'L' }),
        configMap('untouched', { a: '1' }),
        configMap('new-flags', { gamma: 'on' }),
        deployment('web', 5),
        deployment('api', 1),
        secret('db', { password: 'correct-horse-battery' }),
        secret('tls', { key: 'pem-bytes' }),
        service('web'),
      ],
      sealer,
    );
    store.reads.length = 0;
    diff = await diffBackups(store, side('monday'), side('tuesday'));
  });

  it('names the added, removed and changed objects, sorted by resource, namespace and name', () => {
    assert.deepEqual(names(diff.added), ['ConfigMap/new-flags']);
    assert.deepEqual(names(diff.removed), ['ConfigMap/old-flags']);
    assert.deepEqual(names(diff.changed.map((c) => c.object)), [
      'ConfigMap/settings',
      'Deployment/web',
      'Secret/db',
    ]);
    assert.equal(diff.unchanged, 4, 'untouched, api, tls and the Service');
    assert.deepEqual(diff.added[0], {
      group: '',
      version: 'v1',
      resource: 'configmaps',
      kind: 'ConfigMap',
      namespace: 'shop',
      name: 'new-flags',
    });
  });

  it('gives the changed fields with before and after', () => {
    const web = diff.changed.find((c) => c.object.name === 'web');
    assert.deepEqual(web?.fields, [{ op: 'replace', path: '/spec/replicas', before: 2, after: 5 }]);
    const settings = diff.changed.find((c) => c.object.name === 'settings');
    assert.deepEqual(settings?.fields, [
      { op: 'replace', path: '/data/colour', before: 'blue', after: 'green' },
    ]);
  });

  it('without the data key, says a Secret changed and nothing about how', () => {
    const db = diff.changed.find((c) => c.object.kind === 'Secret');
    assert.deepEqual(db, { object: db?.object, fields: [], sealed: true });
  });

  it('never reads the pack both backups share (the Service), and reads each other one once', () => {
    assert.deepEqual(diff.packs, { shared: 1, read: 6 });
    const reads = store.packReads();
    assert.equal(reads.length, 6);
    assert.equal(new Set(reads).size, 6);
  });

  it('with the data key, names the Secret key that changed and only its sizes', async () => {
    const opened = await diffBackups(store, side('monday'), side('tuesday'), { sealer });
    const db = opened.changed.find((c) => c.object.kind === 'Secret');
    assert.equal(db?.sealed, undefined);
    assert.deepEqual(db?.fields, [
      {
        op: 'replace',
        path: '/data/password',
        before: '(11 bytes)',
        after: '(21 bytes)',
        redacted: true,
      },
    ]);
    const text = JSON.stringify(opened) + formatDiff(opened);
    for (const value of ['hunter2-old', 'correct-horse-battery'])
      for (const form of [value, b64(value)]) assert.ok(!text.includes(form), form);
  });

  it('finds nothing between a backup and itself, reading no pack', async () => {
    store.reads.length = 0;
    const same = await diffBackups(store, side('tuesday'), side('tuesday'));
    assert.deepEqual([same.added, same.removed, same.changed], [[], [], []]);
    assert.equal(same.unchanged, 8);
    assert.deepEqual(store.packReads(), []);
  });

  it('shows the table: a summary line, then one line per object and per changed field', () => {
    const lines = formatDiff(diff).split('\n');
    assert.equal(
      lines[0],
      `monday -> tuesday of my-project/us-central1/prod: 1 added, 1 removed, 3 changed, 4 unchanged`,
    );
    assert.deepEqual(lines.slice(1), [
      'ADDED     ConfigMap shop/new-flags',
      'REMOVED   ConfigMap shop/old-flags',
      'CHANGED   ConfigMap shop/settings',
      '            /data/colour: "blue" -> "green"',
      'CHANGED   Deployment shop/web',
      '            /spec/replicas: 2 -> 5',
      'CHANGED   Secret shop/db (sealed Secret: pass --key-file to see which keys changed)',
    ]);
  });

  it('refuses a backup whose catalog does not exist, naming it', async () => {
    await assert.rejects(
      diffBackups(store, side('monday'), side('sunday')),
      /Backup "sunday" of cluster my-project\.us-central1\.prod has no catalog/,
    );
  });

  it('refuses a backup holding a Secret unsealed rather than reporting its value', async () => {
    await writeBackup(
      store,
      'forged',
      [secret('db', { password: 'leaked-value' }), service('web')],
      sealer,
      { unsealedSecrets: true },
    );
    await assert.rejects(
      diffBackups(store, side('monday'), side('forged')),
      /holds Secret shop\/db unsealed/,
    );
  });
});
