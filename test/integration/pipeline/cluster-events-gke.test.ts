import { strict as assert } from 'node:assert';
import { Layout } from '../../../shared/catalog/layout.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { ContainerStandin } from '../../../local/standins/container/server.js';
import { unique } from '../../../local/settings.js';
import { Inbox } from '../../../local/inbox.js';

const SHOP = { project: 'acme-prod', location: 'europe-west1', name: 'shop' };
type Msg = Record<string, unknown> & {
  cluster?: { name: string };
  actions?: string[];
  notes?: string[];
};

function deleteEntry(operationId: string): object {
  const path = `projects/${SHOP.project}/locations/${SHOP.location}/clusters/${SHOP.name}`;
  return {
    insertId: `-${operationId}`,
    logName: `projects/${SHOP.project}/logs/cloudaudit.googleapis.com%2Factivity`,
    timestamp: new Date().toISOString(),
    severity: 'NOTICE',
    resource: {
      type: 'gke_cluster',
      labels: { project_id: SHOP.project, location: SHOP.location, cluster_name: SHOP.name },
    },
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      serviceName: 'container.googleapis.com',
      methodName: 'google.container.v1.ClusterManager.DeleteCluster',
      resourceName: path,
    },
    operation: { id: operationId, producer: 'container.googleapis.com', first: true },
  };
}

/** The deployed clusterEvents function with clusters from the Container API (not local mode). */
describe('the clusterEvents function asks the Container API before it believes a deletion', function () {
  this.timeout(180_000);
  let standin: ContainerStandin;
  let lb: LocalLifeboat;
  let responses: Inbox<Msg>;

  before(async () => {
    standin = await ContainerStandin.start();
    lb = await startLocalLifeboat({ functions: ['clusterEvents'], containerEndpoint: standin.url });
    responses = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('cluster-responses'),
      `${lb.topicPrefix}t-responses`,
    );
  });
  after(async () => {
    await responses?.close();
    await lb?.stop();
    await standin?.stop();
  });

  it('ignores a forged DeleteCluster for a RUNNING cluster and records no deletion', async () => {
    standin.addCluster(SHOP);
    await lb.bus.publish(lb.pipeline.topic('cluster-events'), deleteEntry(unique('op')));
    const response = await responses.waitFor((m) => m.cluster?.name === SHOP.name, 120_000);
    assert.deepEqual(response.actions, ['ignored']);
    assert.match(String(response.notes), /deletion not confirmed: .* is RUNNING/);
    assert.ok(standin.callCount('clusters.get') > 0);
    assert.equal(await lb.store.exists(Layout.deletedMarker(SHOP)), false);
  });

  it('records a deletion the Container API confirms (STOPPING)', async () => {
    standin.setStatus(SHOP, 'STOPPING');
    const seen = responses.messages.length;
    await lb.bus.publish(lb.pipeline.topic('cluster-events'), deleteEntry(unique('op')));
    const response = await responses.waitFor((m) => responses.messages.indexOf(m) >= seen, 120_000);
    assert.match(String(response.notes), /deletion confirmed: .* STOPPING/);
    assert.ok(await lb.store.exists(Layout.deletedMarker(SHOP)));
  });
});
