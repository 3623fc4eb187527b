import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { writePlan } from '../../../shared/backup/parts.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { API_VERSION, BackupPolicy } from '../../../shared/messages/index.js';
import { validate } from '../../../shared/validate.js';
import { loadBackup } from '../../../shared/catalog/load-backup.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { ensure, get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { Inbox } from '../../../local/inbox.js';
import { seedWorkload, WIDGET_CRD } from '../../../local/sample-workload.js';
import { waitEstablished } from '../../../shared/restore/apply-object.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const TARGET = { project: 'local', location: 'local', name: 'target' };
type Msg = Record<string, unknown> & {
  backupId?: string;
  restoreId?: string;
  phase?: string;
  cluster?: { name: string };
};

function deleteClusterEntry(cluster: typeof SOURCE, operationId: string, first = true): object {
  return {
    insertId: `-${operationId}`,
    logName: `projects/${cluster.project}/logs/cloudaudit.googleapis.com%2Factivity`,
    timestamp: new Date().toISOString(),
    severity: 'NOTICE',
    resource: {
      type: 'gke_cluster',
      labels: {
        project_id: cluster.project,
        location: cluster.location,
        cluster_name: cluster.name,
      },
    },
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      serviceName: 'container.googleapis.com',
      methodName: 'google.container.v1.ClusterManager.DeleteCluster',
      resourceName: `projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`,
      authenticationInfo: { principalEmail: 'someone@example.com' },
      request: {
        '@type': 'type.googleapis.com/google.container.v1.DeleteClusterRequest',
        name: `projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`,
      },
    },
    operation: {
      id: operationId,
      producer: 'container.googleapis.com',
      ...(first ? { first: true } : { last: true }),
    },
  };
}

describe('the event-driven pipeline on the Pub/Sub emulator, end to end', function () {
  this.timeout(300_000);
  let lb: LocalLifeboat;
  let completed: Inbox<Msg>;
  let restored: Inbox<Msg>;
  let responses: Inbox<Msg>;
  let pvName: string;
  const policyName = unique('e2e');
  const ns = unique('e2e');
  // What this deployment allows: one policy (its standby implies the plan standby:<policy>),
  // and a plan that copies the source's namespace into the target under another name.
  const deployedPolicy = {
    name: policyName,
    projects: ['local'],
    clusterNames: ['source', 'target'],
    filters: { includeNamespaces: [ns] },
    standbyCluster: TARGET,
  };
  const copyPlan = {
    name: unique('copy'),
    sourceClusters: [SOURCE],
    targetClusters: [TARGET],
    options: {
      namespaceMapping: { [ns]: `${ns}-copy` },
      excludeResources: ['customresourcedefinitions.*', 'clusterroles.*'],
    },
  };

  before(async () => {
    lb = await startLocalLifeboat({
      deployment: { backupPolicies: [deployedPolicy], restorePlans: [copyPlan] },
    });
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
    responses = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('cluster-responses'),
      `${lb.topicPrefix}t-responses`,
    );
    ({ pv: pvName } = await seedWorkload(kubeHttp('source'), ns));
    // The restore below leaves CRDs out, so the target must serve Widgets already; that CRD is
    // also what the target's own backup holds (its namespace is empty there), so it is Completed.
    await ensure(kubeHttp('target'), R.crds, WIDGET_CRD);
    await waitEstablished(kubeHttp('target'), WIDGET_CRD.metadata.name);
    // The workload's PV names a GCE persistent disk; the Compute stand-in holds its bytes.
    lb.compute.seedDisk({
      project: 'acme',
      zone: 'europe-west1-b',
      name: pvName,
      sizeGb: 5,
      type: 'pd-balanced',
      bytes: Buffer.from(`data of ${ns}`),
    });
  });

  after(async () => {
    await Promise.all([completed?.close(), restored?.close(), responses?.close()]);
    await lb?.stop();
  });

  const tick = (): object => ({
    apiVersion: API_VERSION,
    kind: 'ScheduleTick',
    scheduledTime: '2026-11-26T02:00:00Z',
    policy: deployedPolicy,
  });

  it('a schedule tick ends with a verified catalog for each cluster', async () => {
    await lb.bus.publish(lb.pipeline.topic('schedule'), tick());
    const bySource = await completed.waitFor(
      (m) => m.cluster?.name === 'source',
      120_000,
      'BackupCompleted of source',
    );
    const byTarget = await completed.waitFor(
      (m) => m.cluster?.name === 'target',
      120_000,
      'BackupCompleted of target',
    );
    assert.equal(bySource.backupId, `${policyName}-20261126-0200`);
    assert.equal(bySource.phase, 'Completed', JSON.stringify(bySource));
    assert.equal(byTarget.phase, 'Completed', JSON.stringify(byTarget));
    const { catalog, records } = await loadBackup(lb.store, SOURCE, String(bySource.backupId));
    assert.ok(records.some((r) => r.ref.kind === 'Widget' && r.ref.namespace === ns));
    const volume = catalog.volumes.find((v) => v.pvName === pvName);
    assert.equal(volume?.status, 'READY', JSON.stringify(catalog.volumes));
    assert.ok(volume?.snapshot && lb.compute.hasSnapshot('acme', volume.snapshot.name));
  });

  it('a redelivered tick makes no second backup', async () => {
    const snapshotsBefore = lb.compute.snapshotNames('acme').length;
    await lb.bus.publish(lb.pipeline.topic('schedule'), tick());
    await new Promise((r) => setTimeout(r, 8000));
    assert.equal(
      completed.count((m) => m.cluster?.name === 'source'),
      1,
    );
    assert.equal(lb.compute.snapshotNames('acme').length, snapshotsBefore);
  });

  it('a restore request restores one cluster into the other', async () => {
    const mapped = `${ns}-copy`;
    await lb.bus.publish(lb.pipeline.topic('restore'), {
      apiVersion: API_VERSION,
      kind: 'RestoreRequest',
      restoreId: unique('restore'),
      plan: copyPlan.name,
      backup: { latestOf: SOURCE },
      target: TARGET,
    });
    const done = await restored.waitFor(
      (m) => String(m.restoreId).startsWith('restore-'),
      120_000,
      'RestoreCompleted',
    );
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    const target = kubeHttp('target');
    assert.equal((await list(target, R.widgets, mapped)).length, 2);
    const pvc = await get(target, R.pvcs, mapped, 'uploads');
    const volumeName = (pvc?.['spec'] as { volumeName?: string }).volumeName;
    assert.ok(volumeName, 'the restored claim names its restored volume');
    const pv = await get(target, R.pvs, undefined, volumeName);
    const handle = (pv?.['spec'] as { csi?: { volumeHandle: string } }).csi?.volumeHandle ?? '';
    const [, project, , zone, , disk] = handle.split('/');
    assert.deepEqual(
      lb.compute.readDisk({ project: project!, zone: zone!, name: disk! }).toString(),
      `data of ${ns}`,
    );
  });

  it('a DeleteCluster audit entry snapshots, locks and restores into the standby', async () => {
    await lb.bus.publish(
      lb.pipeline.topic('cluster-events'),
      deleteClusterEntry(SOURCE, `operation-${ns}`),
    );
    const response = await responses.waitFor(
      (m) => m.cluster?.name === 'source',
      120_000,
      'ClusterResponse',
    );
    assert.deepEqual(response['actions'], [
      'last-chance-snapshots',
      'locked-backups',
      'standby-restore-requested',
    ]);
    const locked = response['lockedBackups'] as string[];
    assert.equal(locked.length, 2);
    for (const id of locked) assert.ok(await lb.store.exists(Layout.lock(SOURCE, id)));
    const lastChance = await readCatalog(lb.store, SOURCE, locked[1]!);
    assert.equal(lastChance.volumes[0]?.status, 'READY');
    const dr = await restored.waitFor(
      (m) => m.restoreId === response['restoreId'],
      120_000,
      'standby RestoreCompleted',
    );
    assert.equal(dr.phase, 'Completed', JSON.stringify(dr));
    assert.ok(await get(kubeHttp('target'), R.deployments, ns, 'web'));
    // The end of the same deletion changes nothing more.
    await lb.bus.publish(
      lb.pipeline.topic('cluster-events'),
      deleteClusterEntry(SOURCE, `operation-${ns}`, false),
    );
    const ignored = await responses.waitFor(
      (m) => (m['actions'] as string[]).includes('ignored'),
      60_000,
      'ignored response',
    );
    assert.match(String((ignored['notes'] as string[])[0]), /already answered/);
  });

  it('acknowledges poison messages with the reason instead of retrying them forever', async () => {
    await lb.bus.publish(lb.pipeline.topic('schedule'), {
      kind: 'ScheduleTick',
      policy: 'not a policy',
    });
    await lb.bus.publish(lb.pipeline.topic('restore'), { nonsense: true });
    await new Promise((r) => setTimeout(r, 6000));
    const logDir = lb.pipeline.logDir;
    const scheduleLog = readFileSync(join(logDir, 'function-enumerateClusters.log'), 'utf8');
    const restoreLog = readFileSync(join(logDir, 'function-restore.log'), 'utf8');
    assert.equal(
      (scheduleLog.match(/rejected a malformed message/g) ?? []).length,
      1,
      scheduleLog.slice(-2000),
    );
    assert.match(scheduleLog, /\/policy: must be object/);
    assert.equal((restoreLog.match(/rejected a malformed message/g) ?? []).length, 1);
  });

  it('acknowledges key errors, NUL bytes and malformed envelopes on their first delivery', async () => {
    const marker = unique('poison');
    const [dots, nul] = [`../../../../${marker}-dots`, `${marker}-nul\u0000x`];
    // A snapshot job must name a volume of its backup's plan, under the deployed policy: a plan
    // that lists these names (no cluster has such PVs) lets the jobs reach the store.
    const backupId = unique('poison-backup');
    await writePlan(lb.store, {
      backupId,
      cluster: SOURCE,
      policy: validate(BackupPolicy, structuredClone(deployedPolicy), 'policy'),
      kubernetesVersion: 'v1.33.13',
      startedAt: new Date().toISOString(),
      shards: [],
      volumes: [dots, nul],
      warnings: [],
    });
    const job = (pvName: string): object => ({
      apiVersion: API_VERSION,
      kind: 'VolumeSnapshotJob',
      backupId,
      cluster: SOURCE,
      policy: deployedPolicy,
      pvName,
    });
    // Valid messages whose disk name makes a store key no store accepts.
    await lb.bus.publish(lb.pipeline.topic('disk-snapshots'), job(dots));
    await lb.bus.publish(lb.pipeline.topic('disk-snapshots'), job(nul));
    // Push bodies that are not Pub/Sub messages at all, straight to the functions.
    const statuses: number[] = [];
    for (const name of ['snapshotDisks', 'restore'] as const) {
      for (const data of [{}, { message: null }, { message: 'x' }, null]) {
        const response = await fetch(`http://127.0.0.1:${lb.pipeline.servers.get(name)?.port}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify({
            specversion: '1.0',
            id: `${marker}-envelope`,
            source: '//pubsub.googleapis.com/projects/local/topics/x',
            type: 'google.cloud.pubsub.topic.v1.messagePublished',
            data,
          }),
        });
        statuses.push(response.status);
      }
    }
    assert.deepEqual(
      statuses.filter((s) => s >= 300),
      [],
      `malformed envelopes must be acknowledged: ${statuses.join(' ')}`,
    );
    await new Promise((r) => setTimeout(r, 6000));
    const log = readFileSync(join(lb.pipeline.logDir, 'function-snapshotDisks.log'), 'utf8');
    const lines = (what: RegExp, tag: string, why = /./) =>
      log.split('\n').filter((l) => what.test(l) && why.test(l) && l.includes(tag)).length;
    for (const tag of [`${marker}-dots`, `${marker}-nul`]) {
      assert.equal(lines(/transient failure/, tag), 0, `${tag} was retried:\n${log.slice(-3000)}`);
      assert.equal(
        lines(/permanent failure \(acknowledged/, tag, /Invalid object key/),
        1,
        `${tag}:\n${log.slice(-3000)}`,
      );
    }
    assert.ok(
      (log.match(/rejected a malformed message/g) ?? []).length >= 4,
      'each malformed envelope acknowledged with its reason',
    );
  });
});
