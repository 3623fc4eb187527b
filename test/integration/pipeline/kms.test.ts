import { strict as assert } from 'node:assert';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { API_VERSION } from '../../../shared/messages/index.js';
import { loadBackup } from '../../../shared/catalog/load-backup.js';
import type { FunctionName } from '../../../functions/registry.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { KmsAdmin } from '../../../local/kms-admin.js';
import { create, get, kubeHttp, R } from '../../../local/kube-requests.js';
import { Inbox } from '../../../local/inbox.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const TARGET = { project: 'local', location: 'local', name: 'target' };
type Msg = Record<string, unknown> & {
  backupId?: string;
  restoreId?: string;
  phase?: string;
  errors?: string[];
  cluster?: { name: string };
};

/** The functions that load the data key (runtime.sealer()). */
const KEY_USERS: FunctionName[] = [
  'exportManifests',
  'exportShard',
  'emitCatalog',
  'restore',
  'retention',
  'clusterEvents',
];

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/**
 * Deployed with Cloud KMS (LIFEBOAT_KMS_KEY): the data key that seals
 * Secrets is wrapped with a KMS key on the KMS stand-in, which the test
 * rotates and disables through the real client, as an operator would.
 */
describe('the pipeline with a Cloud KMS key', function () {
  this.timeout(300_000);
  let lb: LocalLifeboat;
  let admin: KmsAdmin;
  let completed: Inbox<Msg>;
  let restored: Inbox<Msg>;
  let keyName: string;
  let firstVersion: string;
  const ns = unique('kms');
  const policy = {
    name: unique('kms'),
    projects: ['local'],
    clusterNames: ['source'],
    filters: { includeNamespaces: [ns] },
    snapshotVolumes: false,
  };
  // One plan per backup restored, each into its own namespace of the target.
  const plan = (suffix: string): object => ({
    name: unique(`kms-${suffix}`),
    sourceClusters: [SOURCE],
    targetClusters: [TARGET],
    options: {
      namespaceMapping: { [ns]: `${ns}-${suffix}` },
      includeResources: ['namespaces', 'secrets'],
    },
  });
  const plans = { first: plan('first'), second: plan('second'), third: plan('third') };
  const planName = (p: object): string => (p as { name: string }).name;
  const secrets = {
    first: { db: { password: 'correct horse' }, api: { token: 'tk-1', url: 'https://a' } },
    second: { db: { password: 'battery staple' }, api: { token: 'tk-1', url: 'https://a' } },
  };
  const backupIds: string[] = [];

  const tick = (hour: string): object => ({
    apiVersion: API_VERSION,
    kind: 'ScheduleTick',
    scheduledTime: `2026-11-26T${hour}:00:00Z`,
    policy,
  });

  async function backupAt(hour: string): Promise<Msg> {
    await lb.bus.publish(lb.pipeline.topic('schedule'), tick(hour));
    const backupId = `${policy.name}-20261126-${hour}00`;
    return completed.waitFor(
      (m) => m.backupId === backupId,
      120_000,
      `BackupCompleted ${backupId}`,
    );
  }

  async function restore(backupId: string, p: object): Promise<Msg> {
    const restoreId = unique('kms-restore');
    await lb.bus.publish(lb.pipeline.topic('restore'), {
      apiVersion: API_VERSION,
      kind: 'RestoreRequest',
      restoreId,
      plan: planName(p),
      backup: { backupId, cluster: SOURCE },
      target: TARGET,
    });
    return restored.waitFor(
      (m) => m.restoreId === restoreId,
      120_000,
      `RestoreCompleted ${restoreId}`,
    );
  }

  async function putSecrets(values: Record<string, Record<string, string>>): Promise<void> {
    const http = kubeHttp('source');
    for (const [name, data] of Object.entries(values)) {
      const body = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: ns },
        type: 'Opaque',
        data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
      };
      const existing = await get(http, R.secrets, ns, name);
      if (existing) {
        await http.request('PUT', `/api/v1/namespaces/${ns}/secrets/${name}`, { body });
      } else {
        await create(http, R.secrets, body);
      }
    }
  }

  async function targetSecrets(namespace: string): Promise<Record<string, Record<string, string>>> {
    const http = kubeHttp('target');
    const found: Record<string, Record<string, string>> = {};
    for (const name of ['db', 'api']) {
      const secret = await get(http, R.secrets, namespace, name);
      const data = (secret?.['data'] ?? {}) as Record<string, string>;
      found[name] = Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
    }
    return found;
  }

  before(async () => {
    lb = await startLocalLifeboat({
      kms: true,
      deployment: { backupPolicies: [policy], restorePlans: Object.values(plans) },
    });
    assert.ok(lb.kms && lb.kmsKey, 'the harness started the KMS stand-in');
    keyName = lb.kmsKey;
    admin = new KmsAdmin(lb.kms);
    firstVersion = await admin.primary(keyName);
    completed = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('backup-completed'),
      `${lb.topicPrefix}t-completed`,
    );
    restored = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('restore-completed'),
      `${lb.topicPrefix}t-restored`,
    );
    await create(kubeHttp('source'), R.namespaces, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    await putSecrets(secrets.first);
  });

  after(async () => {
    await Promise.all([completed?.close(), restored?.close(), admin?.close()]);
    await lb?.stop();
  });

  it('a scheduled backup seals its Secrets under a data key wrapped with the KMS key', async () => {
    const done = await backupAt('02');
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    const backupId = String(done.backupId);
    backupIds.push(backupId);
    const catalog = await readCatalog(lb.store, SOURCE, backupId);
    assert.equal(catalog.encryption?.wrappedBy, `kms:${keyName}`);
    assert.equal(catalog.counts.secrets, 2);
    // The data key is stored wrapped by KMS, and nothing in the backup shows a Secret's value.
    const stored = JSON.parse(
      (await lb.store.get(Layout.dataKey(catalog.encryption!.keyId))).toString('utf8'),
    ) as { wrappedBy: string; wrappedKey: string };
    assert.equal(stored.wrappedBy, `kms:${keyName}`);
    const { records } = await loadBackup(lb.store, SOURCE, backupId);
    const sealed = records.filter((r) => r.sealed);
    assert.deepEqual(sealed.map((r) => r.ref.name).sort(), ['api', 'db']);
    for (const r of sealed) {
      const text = JSON.stringify(r);
      assert.ok(!text.includes('correct horse') && !text.includes(b64('correct horse')), text);
    }
    // Wrapped once, with the primary version; every function that loads the key decrypts.
    const encrypts = lb.kms!.uses.filter((u) => u.method === 'encrypt');
    assert.deepEqual(
      encrypts.map((u) => u.version),
      [firstVersion],
    );
    assert.ok(lb.kms!.uses.some((u) => u.method === 'decrypt' && u.version === firstVersion));
  });

  it('after the key is rotated, the next backup is Completed with the same data key', async () => {
    const secondVersion = await admin.rotate(keyName);
    assert.equal(await admin.primary(keyName), secondVersion);
    await putSecrets(secrets.second);
    const done = await backupAt('03');
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    backupIds.push(String(done.backupId));
    const [first, second] = await Promise.all(
      backupIds.map((id) => readCatalog(lb.store, SOURCE, id)),
    );
    // The data key stays wrapped by the version that wrapped it: rotation wraps nothing anew.
    assert.deepEqual(second?.encryption, first?.encryption);
    assert.equal(lb.kms!.uses.filter((u) => u.method === 'encrypt').length, 1);
  });

  it('both backups restore their Secrets into the target, with the values each was taken with', async () => {
    const one = await restore(backupIds[0]!, plans.first);
    assert.equal(one.phase, 'Completed', JSON.stringify(one));
    const two = await restore(backupIds[1]!, plans.second);
    assert.equal(two.phase, 'Completed', JSON.stringify(two));
    assert.deepEqual(await targetSecrets(`${ns}-first`), secrets.first);
    assert.deepEqual(await targetSecrets(`${ns}-second`), secrets.second);
  });

  it('with the version that wrapped the data key disabled, a new instance fails the backup and the restore, naming the key', async () => {
    await admin.setState(firstVersion, 'DISABLED');
    // Running instances keep the data key they unwrapped (a warm exportManifests, exportShard
    // and emitCatalog complete the next backup as before); new instances must unwrap it again.
    await Promise.all(
      KEY_USERS.map(async (name) => {
        await lb.pipeline.kill(name);
        await lb.pipeline.startFunction(name);
      }),
    );
    const done = await backupAt('04');
    assert.equal(done.phase, 'Failed', JSON.stringify(done));
    const reason = (done.errors ?? []).join('\n');
    assert.ok(reason.includes(`Cloud KMS key ${keyName} could not unwrap`), reason);
    assert.match(reason, /cryptoKeyVersions\/1 is not enabled, current state is: DISABLED/);
    assert.match(reason, /enable the key version again \(gcloud kms keys versions enable 1 /);

    const refused = await restore(backupIds[1]!, plans.third);
    assert.equal(refused.phase, 'Failed', JSON.stringify(refused));
    assert.ok((refused.errors ?? []).join('\n').includes(`Cloud KMS key ${keyName}`));
    assert.equal(await get(kubeHttp('target'), R.namespaces, undefined, `${ns}-third`), undefined);

    // Enabled again, the next backup goes through.
    await admin.setState(firstVersion, 'ENABLED');
    const again = await backupAt('05');
    assert.equal(again.phase, 'Completed', JSON.stringify(again));
  });
});
