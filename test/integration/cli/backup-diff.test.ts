import { strict as assert } from 'node:assert';
import { pathToFileURL } from 'node:url';
import { diffBackups, type BackupDiff } from '../../../shared/catalog/backup-diff.js';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { resourcePath, type KubeHttp } from '../../../shared/kube/kube-http.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { unique } from '../../../local/settings.js';
import { create, get, kubeHttp, R } from '../../../local/kube-requests.js';
import { errorLines, explain, runCli } from '../../unit/cli/run-cli.js';
import { jsonOf, kubeconfigs, newKeyFile, tempDir } from './cli-env.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const OLD_PASSWORD = 'hunter2-before-the-incident';
const NEW_PASSWORD = 'correct-horse-battery-staple';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** The file store, remembering every key read from it. */
class ReadingStore extends LocalStore {
  readonly reads: string[] = [];
  override async get(key: string): Promise<Buffer> {
    this.reads.push(key);
    return super.get(key);
  }
}

const controllersOn = (): boolean => process.env['LIFEBOAT_CONTROLLERS'] !== 'off';

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * What the controllers do to the namespace on their own settles before a
 * backup: the root CA ConfigMap is published and the Deployment synced (its
 * revision annotation written), so the diff holds only the test's changes.
 */
async function settle(http: KubeHttp, ns: string): Promise<void> {
  if (!controllersOn()) return;
  await until(`kube-root-ca.crt in ${ns}`, async () =>
    Boolean(await get(http, R.configmaps, ns, 'kube-root-ca.crt')),
  );
  await until(`Deployment ${ns}/web synced`, async () => {
    const d = await get(http, R.deployments, ns, 'web');
    const observed = (d?.['status'] as { observedGeneration?: number } | undefined)
      ?.observedGeneration;
    return observed !== undefined && observed >= Number(d?.metadata['generation']);
  });
}

async function mergePatch(
  http: KubeHttp,
  ref: (typeof R)[keyof typeof R],
  ns: string,
  name: string,
  body: object,
): Promise<void> {
  await http.request<KubeObject>('PATCH', resourcePath(ref, ns, name), {
    body,
    contentType: 'application/merge-patch+json',
  });
}

describe('lifeboat backup diff against a real cluster and a file:// store', function () {
  this.timeout(300_000);
  const dir = tempDir('diff-store');
  const store = pathToFileURL(dir).href;
  const [fromId, toId] = [unique('diff-a'), unique('diff-b')];
  let keyFile: string;
  let ns: string;
  let http: KubeHttp;

  const backup = async (id: string): Promise<void> => {
    await settle(http, ns);
    const r = await runCli([
      'backup',
      'create',
      id,
      '--kubeconfig',
      kubeconfigs.source(),
      '--store',
      store,
      '--include-namespaces',
      ns,
      '--include-resources',
      'configmaps,secrets,deployments.apps,services',
      '--snapshot-volumes=false',
      '--key-file',
      keyFile,
    ]);
    assert.equal(r.code, 0, explain(r));
  };

  before(async () => {
    keyFile = newKeyFile();
    ns = unique('diff-shop');
    http = kubeHttp('source');
    const m = (name: string) => ({ name, namespace: ns });
    const labels = { app: 'web' };
    await create(http, R.namespaces, { metadata: { name: ns } });
    await create(http, R.configmaps, { metadata: m('settings'), data: { colour: 'blue' } });
    await create(http, R.configmaps, { metadata: m('old-flags'), data: { beta: 'on' } });
    await create(http, R.secrets, { metadata: m('db'), data: { password: b64(OLD_PASSWORD) } });
    await create(http, R.services, {
      metadata: m('web'),
      spec: { selector: labels, ports: [{ port: 80 }] },
    });
    await create(http, R.deployments, {
      metadata: m('web'),
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
        },
      },
    });
    await backup(fromId);

    await mergePatch(http, R.configmaps, ns, 'settings', { data: { colour: 'green' } });
    await mergePatch(http, R.deployments, ns, 'web', { spec: { replicas: 5 } });
    await mergePatch(http, R.secrets, ns, 'db', { data: { password: b64(NEW_PASSWORD) } });
    await http.request('DELETE', resourcePath(R.configmaps, ns, 'old-flags'));
    await create(http, R.configmaps, { metadata: m('new-flags'), data: { gamma: 'on' } });
    await backup(toId);
  });

  after(async () => {
    await http?.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
    http?.close();
  });

  const diffArgs = (...extra: string[]): string[] => [
    'backup',
    'diff',
    fromId,
    toId,
    '--store',
    store,
    ...extra,
  ];

  const names = (objects: { kind: string; namespace?: string; name: string }[]): string[] =>
    objects.map((o) => `${o.kind} ${o.namespace}/${o.name}`);

  const assertNoSecretValue = (text: string): void => {
    for (const value of [OLD_PASSWORD, NEW_PASSWORD])
      for (const form of [value, b64(value)])
        assert.ok(!text.includes(form), `the output holds the Secret's value (${form})`);
  };

  it('names exactly what changed, the replicas with before and after, and the Secret as sealed without the key', async () => {
    const r = await runCli(diffArgs('-o', 'json'));
    const diff = jsonOf<BackupDiff>(r);
    assertNoSecretValue(r.stdout);
    assert.deepEqual(diff.from, { cluster: SOURCE, backupId: fromId });
    assert.deepEqual(names(diff.added), [`ConfigMap ${ns}/new-flags`]);
    assert.deepEqual(names(diff.removed), [`ConfigMap ${ns}/old-flags`]);
    assert.deepEqual(
      names(diff.changed.map((c) => c.object)),
      [`ConfigMap ${ns}/settings`, `Deployment ${ns}/web`, `Secret ${ns}/db`],
      JSON.stringify(diff.changed, null, 1),
    );
    const [settings, web, db] = diff.changed;
    assert.deepEqual(settings?.fields, [
      { op: 'replace', path: '/data/colour', before: 'blue', after: 'green' },
    ]);
    assert.deepEqual(web?.fields, [{ op: 'replace', path: '/spec/replicas', before: 2, after: 5 }]);
    assert.deepEqual(db, { object: db?.object, fields: [], sealed: true });
    // The Service at least (and the root CA ConfigMap, with controllers).
    assert.ok(diff.unchanged >= 1, `unchanged: ${diff.unchanged}`);
  });

  it('with the key, names the Secret key that changed and only the sizes of its values', async () => {
    const r = await runCli(diffArgs('--key-file', keyFile, '-o', 'json'));
    const diff = jsonOf<BackupDiff>(r);
    assertNoSecretValue(r.stdout);
    const db = diff.changed.find((c) => c.object.kind === 'Secret');
    assert.deepEqual(db?.fields, [
      {
        op: 'replace',
        path: '/data/password',
        before: `(${OLD_PASSWORD.length} bytes)`,
        after: `(${NEW_PASSWORD.length} bytes)`,
        redacted: true,
      },
    ]);
  });

  it('prints a table: the counts, then each object and each changed field, no Secret value', async () => {
    const r = await runCli(diffArgs('--key-file', keyFile));
    assert.equal(r.code, 0, explain(r));
    assertNoSecretValue(r.stdout);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(
      lines[0] ?? '',
      new RegExp(
        `^${fromId} -> ${toId} of local/local/source: 1 added, 1 removed, 3 changed, \\d+ unchanged$`,
      ),
    );
    assert.deepEqual(lines.slice(1), [
      `ADDED     ConfigMap ${ns}/new-flags`,
      `REMOVED   ConfigMap ${ns}/old-flags`,
      `CHANGED   ConfigMap ${ns}/settings`,
      '            /data/colour: "blue" -> "green"',
      `CHANGED   Deployment ${ns}/web`,
      '            /spec/replicas: 2 -> 5',
      `CHANGED   Secret ${ns}/db`,
      `            /data/password: (${OLD_PASSWORD.length} bytes) -> (${NEW_PASSWORD.length} bytes)`,
    ]);
  });

  it('never reads the pack both backups share (the Service)', async () => {
    const reading = new ReadingStore(dir);
    const [older, newer] = await Promise.all(
      [fromId, toId].map((id) => readCatalog(reading, SOURCE, id)),
    );
    const servicePack = (c: typeof older) =>
      c?.packs.find((p) => p.resource.resource === 'services')?.digest;
    const shared = servicePack(older);
    assert.ok(shared, 'the first backup has a pack of Services');
    assert.equal(servicePack(newer), shared, 'the unchanged Service makes the same pack');
    reading.reads.length = 0;
    const diff = await diffBackups(
      reading,
      { cluster: SOURCE, backupId: fromId },
      { cluster: SOURCE, backupId: toId },
    );
    const packReads = reading.reads.filter((k) => k.startsWith('objects/'));
    assert.ok(!packReads.includes(Layout.pack(shared)), packReads.join(', '));
    assert.ok(diff.packs.shared >= 1);
    assert.equal(packReads.length, diff.packs.read);
    assert.ok(
      packReads.length >= 4,
      'the changed ConfigMap, Secret and Deployment packs, both sides',
    );
  });

  it('exits 3 for a backup that is not there and 2 without both names', async () => {
    const missing = await runCli(['backup', 'diff', fromId, 'no-such-backup', '--store', store]);
    assert.equal(missing.code, 3, explain(missing));
    assert.deepEqual(errorLines(missing), [
      `lifeboat: backup "no-such-backup" not found in ${store}`,
    ]);
    const usage = await runCli(['backup', 'diff', fromId, '--store', store]);
    assert.equal(usage.code, 2, explain(usage));
    assert.match(usage.stderr, /missing required argument 'to'/);
  });
});
