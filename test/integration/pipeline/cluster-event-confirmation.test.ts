import { strict as assert } from 'node:assert';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { GkeInventory } from '../../../shared/clusters/gke-inventory.js';
import { parseAuditLogEntry, type AuditLogEntry } from '../../../shared/messages/index.js';
import { respondToClusterEvent } from '../../../shared/pipeline/cluster-events.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { Deadline } from '../../../shared/time/deadline.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import { ContainerStandin } from '../../../local/standins/container/server.js';
import { DeployedConfiguration } from '../../../shared/config/deployment.js';
import { gcsStore, policy, sealerFor, SOURCE, TARGET } from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { create, kubeHttp, R } from '../../../local/kube-requests.js';
import { FakeSnapshotter } from '../../unit/disks/fake-snapshotter.js';

const DELETE = 'google.container.v1.ClusterManager.DeleteCluster';
const CREATE = 'google.container.v1.ClusterManager.CreateCluster';

function entry(
  method: string,
  operationId: string,
  at: Date,
  operation: { first?: boolean; last?: boolean },
): AuditLogEntry {
  const path = `projects/${SOURCE.project}/locations/${SOURCE.location}/clusters/${SOURCE.name}`;
  return parseAuditLogEntry({
    insertId: `-${operationId}`,
    logName: `projects/${SOURCE.project}/logs/cloudaudit.googleapis.com%2Factivity`,
    timestamp: at.toISOString(),
    resource: {
      type: 'gke_cluster',
      labels: {
        project_id: SOURCE.project,
        location: SOURCE.location,
        cluster_name: SOURCE.name,
      },
    },
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      serviceName: 'container.googleapis.com',
      methodName: method,
      resourceName: path,
    },
    operation: { id: operationId, producer: 'container.googleapis.com', ...operation },
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Forged audit entries against the Container API: the real client, the
 * stand-in serving the cluster, a real backup of the source cluster whose
 * policy names a standby and restores on recreation.
 */
describe('cluster events are confirmed with the Container API before anything is done', function () {
  this.timeout(120_000);
  let standin: ContainerStandin;
  let inventory: GkeInventory;
  let store: ObjectStore;
  let backupId: string;
  let sealer: Sealer;
  let deployment: DeployedConfiguration;
  const disks = new FakeSnapshotter();
  const respond = (e: AuditLogEntry) =>
    respondToClusterEvent(e, {
      store,
      disks,
      sealer,
      deadline: Deadline.after(60_000),
      deployment,
      clusters: inventory,
    });
  const deletedMarker = (): Promise<boolean> => store.exists(Layout.deletedMarker(SOURCE));

  before(async () => {
    standin = await ContainerStandin.start();
    inventory = new GkeInventory({ client: standin.clientOptions(), accessToken: async () => 'x' });
    store = await gcsStore();
    let encryption;
    ({ sealer, encryption } = await sealerFor(store));
    const ns = unique('events');
    const source = kubeHttp('source');
    await create(source, R.namespaces, { metadata: { name: ns } });
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns },
      data: { color: 'blue' },
    });
    backupId = unique('events');
    const backupPolicy = policy({
      filters: { includeNamespaces: [ns] },
      standbyCluster: TARGET,
      restoreOnRecreate: true,
    });
    deployment = new DeployedConfiguration({ backupPolicies: [backupPolicy], restorePlans: [] });
    const { catalog } = await runBackup(
      { http: source, store, sealer, encryption },
      { backupId, cluster: SOURCE, policy: backupPolicy },
    );
    assert.equal(catalog.phase, 'Completed');
  });
  after(async () => {
    await inventory.close();
    await standin.stop();
  });

  it('ignores a DeleteCluster entry for a cluster the Container API says is RUNNING', async () => {
    standin.addCluster({ ...SOURCE });
    const { response, restore } = await respond(
      entry(DELETE, unique('op'), new Date(), { first: true }),
    );
    assert.deepEqual(response.actions, ['ignored']);
    assert.match(response.notes.join('\n'), /deletion not confirmed: .* is RUNNING/);
    assert.equal(restore, undefined);
    assert.deepEqual(response.lockedBackups, []);
    assert.equal(await store.exists(Layout.lock(SOURCE, backupId)), false);
    assert.equal(await deletedMarker(), false, 'no deleted marker for a recreate to build on');
    assert.equal(disks.snapshotRequests.length, 0);
    assert.ok(standin.callCount('clusters.get') > 0, 'the Container API was asked');
  });

  it('ignores a recreate of a cluster that exists from before the deletion', async () => {
    // The cluster really stops now: the deletion is confirmed and recorded...
    standin.setStatus(SOURCE, 'STOPPING');
    const deletion = await respond(entry(DELETE, unique('op'), new Date(), { first: true }));
    assert.deepEqual(deletion.response.actions, [
      'last-chance-snapshots',
      'locked-backups',
      'standby-restore-requested',
    ]);
    assert.match(deletion.response.notes.join('\n'), /deletion confirmed: .* STOPPING/);
    assert.equal(deletion.restore?.target.name, TARGET.name);
    assert.ok(await store.exists(Layout.lock(SOURCE, backupId)));
    assert.ok(await deletedMarker());
    // ...then a CreateCluster entry names it while the Container API still serves the old one.
    standin.setStatus(SOURCE, 'RUNNING');
    const { response, restore } = await respond(
      entry(CREATE, unique('op'), new Date(), { last: true }),
    );
    assert.deepEqual(response.actions, ['ignored']);
    assert.match(
      response.notes.join('\n'),
      /not after its recorded deletion.*not a recreated cluster/,
    );
    assert.equal(restore, undefined);
  });

  it('restores into a cluster the Container API says was created after the deletion', async () => {
    assert.ok(standin.removeCluster(SOURCE));
    await sleep(20);
    standin.addCluster({ ...SOURCE });
    const { response, restore } = await respond(
      entry(CREATE, unique('op'), new Date(), { last: true }),
    );
    assert.deepEqual(response.actions, ['recreate-restore-requested'], response.notes.join('\n'));
    assert.deepEqual(restore?.target, SOURCE);
  });

  it('a deletion of a cluster the Container API no longer knows is confirmed', async () => {
    assert.ok(standin.removeCluster(SOURCE));
    const { response } = await respond(entry(DELETE, unique('op'), new Date(), { first: true }));
    assert.ok(response.actions.includes('locked-backups'), response.notes.join('\n'));
    assert.match(response.notes.join('\n'), /no longer knows the cluster/);
  });

  it('answers a deletion made through the v1beta1 API like one through v1', async () => {
    const beta = DELETE.replace('.v1.', '.v1beta1.');
    const { response, restore } = await respond(
      entry(beta, unique('op'), new Date(), { first: true }),
    );
    assert.equal(response.methodName, beta);
    assert.ok(response.actions.includes('locked-backups'), response.notes.join('\n'));
    assert.equal(restore?.plan, 'standby:test');
  });

  it('restores nothing automatically once the policy is no longer deployed', async () => {
    const saved = deployment;
    deployment = new DeployedConfiguration({ backupPolicies: [], restorePlans: [] });
    try {
      const { response, restore } = await respond(
        entry(DELETE, unique('op'), new Date(), { first: true }),
      );
      assert.equal(restore, undefined);
      assert.match(response.notes.join('\n'), /no longer deployed: no standby restore/);
    } finally {
      deployment = saved;
    }
  });
});
