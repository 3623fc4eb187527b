import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { exportResource } from '../../../shared/backup/export-resource.js';
import { writePlan, type BackupPlan } from '../../../shared/backup/parts.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { decodePack } from '../../../shared/catalog/pack.js';
import { generateKeyFileContents } from '../../../shared/crypto/key-wrapper.js';
import { PermanentError } from '../../../shared/errors.js';
import { API_VERSION } from '../../../shared/messages/index.js';
import { openStore } from '../../../shared/store/open-store.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { policy, sealerFor, SOURCE } from '../../../local/backup-fixture.js';
import { required, unique } from '../../../local/settings.js';
import { create, kubeHttp, R } from '../../../local/kube-requests.js';

const SECRETS = { ...R.secrets, kind: 'Secret' };
const CONFIGMAPS = { ...R.configmaps, kind: 'ConfigMap' };
const PASSWORD = 'hunter2-never-in-clear';

async function keys(store: ObjectStore, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.key);
  return out.sort();
}

describe('exportShard exports what the plan says, and Secrets only sealed (attacks)', function () {
  this.timeout(120_000);
  const ns = unique('trust');
  const backupId = unique('trust-backup');
  const http = kubeHttp('source');
  let dir: string;
  let store: ObjectStore;
  let saved: Record<string, string | undefined>;
  let plan: BackupPlan;
  type Handler = (event: object) => Promise<void>;
  let handler: Handler;

  before(async () => {
    await create(http, R.namespaces, { metadata: { name: ns } });
    await create(http, R.secrets, {
      metadata: { name: 'db', namespace: ns },
      stringData: { password: PASSWORD },
    });
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-trust-'));
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, generateKeyFileContents(), { mode: 0o600 });
    store = openStore(`file://${join(dir, 'store')}`);
    const vars = {
      LIFEBOAT_STORE: `file://${join(dir, 'store')}`,
      LIFEBOAT_KEY_FILE: keyFile,
      LIFEBOAT_KUBECONFIG: required('LIFEBOAT_KUBECONFIG'),
      LIFEBOAT_TOPIC_PREFIX: `${unique('trust')}-`,
      LIFEBOAT_PROJECT: 'lifeboat-local',
      LIFEBOAT_LOG_LEVEL: 'error',
    };
    saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    await import('../../../functions/export-shard.js');
    handler = getFunction('exportShard') as unknown as Handler;
    plan = await writePlan(store, {
      backupId,
      cluster: SOURCE,
      policy: policy({ filters: { includeNamespaces: [ns] } }),
      kubernetesVersion: 'v1.33.13',
      startedAt: new Date().toISOString(),
      shards: [
        { shardId: 'core.secrets', resource: SECRETS },
        { shardId: 'core.configmaps', resource: CONFIGMAPS },
      ],
      volumes: [],
      warnings: [],
    });
  });

  after(() => {
    for (const [k, v] of Object.entries(saved ?? {})) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const deliver = (message: object): Promise<void> =>
    handler({
      id: unique('event'),
      specversion: '1.0',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      source: 'test',
      data: {
        message: {
          messageId: unique('m'),
          data: Buffer.from(JSON.stringify(message)).toString('base64'),
        },
        deliveryAttempt: 1,
      },
    });
  const shardMessage = (shardId: string, resource: object): object => ({
    apiVersion: API_VERSION,
    kind: 'ExportShard',
    backupId,
    cluster: SOURCE,
    policy: plan.policy,
    shardId,
    resource,
    segment: 3,
  });

  for (const [what, shardId, resource] of [
    [
      'the secrets shard claiming kind ConfigMap',
      'core.secrets',
      { ...SECRETS, kind: 'ConfigMap' },
    ],
    [
      'the configmaps shard naming the secrets resource',
      'core.configmaps',
      { ...SECRETS, kind: 'ConfigMap' },
    ],
    ['a shard the plan does not have', 'forged.secrets', SECRETS],
    ['a group that climbs to the core API', 'core.secrets', { ...SECRETS, group: 'x/../../api' }],
  ] as const) {
    it(`acknowledges and writes nothing for ${what}`, async () => {
      const before = await keys(store);
      // Acknowledged: the handler returns instead of throwing for a redelivery.
      await deliver(shardMessage(shardId, resource));
      assert.deepEqual(await keys(store), before, 'nothing was written');
      assert.deepEqual(await keys(store, 'objects/'), [], 'no pack');
    });
  }

  it('seals a Secret listed under a shard that claims kind ConfigMap', async () => {
    const { sealer } = await sealerFor(store);
    const result = await exportResource(
      {
        http,
        store,
        sealer,
        filters: { ...plan.policy.filters!, includeNamespaces: [ns] },
        knownPacks: new Set(),
      },
      { ...SECRETS, kind: 'ConfigMap' },
      { shardId: 'x' },
    );
    assert.equal(result.objects, 1);
    assert.equal(result.secrets, 1, 'counted as a Secret');
    const pack = result.packs[0]!;
    const { records } = decodePack(await store.get(Layout.pack(pack.digest)), pack.digest);
    assert.ok(records[0]!.sealed, 'sealed');
    assert.equal(records[0]!.object, undefined, 'no plain object');
    const raw = JSON.stringify(records);
    assert.ok(!raw.includes(Buffer.from(PASSWORD).toString('base64')), 'no password in clear');
  });

  it('fails, storing nothing, when there is no key to seal that Secret with', async () => {
    const before = await keys(store);
    await assert.rejects(
      exportResource(
        {
          http,
          store,
          filters: { ...plan.policy.filters!, includeNamespaces: [ns] },
          knownPacks: new Set(),
        },
        { ...SECRETS, kind: 'ConfigMap' },
        { shardId: 'x' },
      ),
      PermanentError,
    );
    assert.deepEqual(await keys(store), before);
  });
});
