import { strict as assert } from 'node:assert';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { loadSealer } from '../../../shared/catalog/data-key.js';
import { LocalKeyWrapper } from '../../../shared/crypto/key-wrapper.js';
import { API_VERSION } from '../../../shared/messages/index.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { policy } from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { create, get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { Inbox } from '../../../local/inbox.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const TARGET = { project: 'local', location: 'local', name: 'target' };
type Msg = Record<string, unknown> & { restoreId?: string; phase?: string; errors?: string[] };

/** The deployed restore function: one restore id is one request. */
describe('the restore function: a second request under a used restore id', function () {
  this.timeout(240_000);
  let lb: LocalLifeboat;
  let restored: Inbox<Msg>;
  const ns = unique('rid');
  const backupId = unique('rid');
  const [first, second] = [unique('first'), unique('second')];
  // Two deployed plans that restore the namespace under different names: a request names one.
  const planInto = (mapped: string): object => ({
    name: mapped,
    sourceClusters: [SOURCE],
    targetClusters: [TARGET],
    options: { includeNamespaces: [ns], namespaceMapping: { [ns]: mapped } },
  });

  const request = (restoreId: string, mapped: string): object => ({
    apiVersion: API_VERSION,
    kind: 'RestoreRequest',
    restoreId,
    plan: mapped,
    backup: { backupId, cluster: SOURCE },
    target: TARGET,
  });

  before(async () => {
    lb = await startLocalLifeboat({
      functions: ['restore'],
      deployment: { restorePlans: [planInto(first), planInto(second)] },
    });
    restored = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('restore-completed'),
      `${lb.topicPrefix}t-restored`,
    );
    const source = kubeHttp('source');
    await create(source, R.namespaces, { metadata: { name: ns } });
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns },
      data: { color: 'blue' },
    });
    const wrapper = new LocalKeyWrapper(lb.keyFile);
    const sealer = await loadSealer(lb.store, wrapper);
    const { catalog } = await runBackup(
      {
        http: source,
        store: lb.store,
        sealer,
        encryption: { keyId: sealer.keyId, wrappedBy: wrapper.id },
      },
      { backupId, cluster: SOURCE, policy: policy({ filters: { includeNamespaces: [ns] } }) },
    );
    assert.equal(catalog.phase, 'Completed');
  });
  after(async () => {
    await restored?.close();
    await lb?.stop();
  });

  it('answers Failed with the reason and keeps the first report', async () => {
    const restoreId = unique('r');
    await lb.bus.publish(lb.pipeline.topic('restore'), request(restoreId, first));
    const done = await restored.waitFor((m) => m.restoreId === restoreId, 120_000, 'first');
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    assert.ok(await get(kubeHttp('target'), R.configmaps, first, 'settings'));
    const reportBefore = (await lb.store.get(Layout.report(restoreId))).toString('utf8');

    await lb.bus.publish(lb.pipeline.topic('restore'), request(restoreId, second));
    const refused = await restored.waitFor(
      (m) => m.restoreId === restoreId && m !== done,
      120_000,
      'answer to the second request',
    );
    assert.equal(refused.phase, 'Failed', JSON.stringify(refused));
    assert.match(String(refused.errors), /refused: that restore id already finished/);
    assert.equal((await lb.store.get(Layout.report(restoreId))).toString('utf8'), reportBefore);
    assert.equal(await get(kubeHttp('target'), R.namespaces, undefined, second), undefined);
    assert.equal((await list(kubeHttp('target'), R.configmaps, second)).length, 0);
  });
});
