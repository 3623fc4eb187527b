import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { Functions, HttpFunctions, type FunctionName } from '../../../functions/registry.js';
import { emitCatalog } from '../../../shared/backup/emit-catalog.js';
import { writePlan, writeVolumePart } from '../../../shared/backup/parts.js';
import { PubSubBus } from '../../../shared/bus/pubsub-bus.js';
import { mapLimit } from '../../../shared/concurrency.js';
import { listCatalogs } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { DEPLOYMENT_ENV } from '../../../shared/config/deployment.js';
import { loadSealer } from '../../../shared/catalog/data-key.js';
import { KmsKeyWrapper } from '../../../shared/crypto/kms-key-wrapper.js';
import { BACKUP_LABEL } from '../../../shared/disks/gce-snapshotter.js';
import { API_VERSION, BackupPolicy } from '../../../shared/messages/index.js';
import { GcsStore } from '../../../shared/store/gcs-store.js';
import { waitEstablished } from '../../../shared/restore/apply-object.js';
import { validate } from '../../../shared/validate.js';
import { ApiRecorder } from '../../../local/api-recorder.js';
import { LocalPipeline, serveFunction } from '../../../local/pipeline.js';
import { pdCsiVolume } from '../../../local/pd-volume.js';
import { freePort, stopService, waitUntilReady } from '../../../local/process.js';
import { ComputeStandin } from '../../../local/standins/compute/server.js';
import { ContainerStandin } from '../../../local/standins/container/server.js';
import { KmsStandin } from '../../../local/standins/kms/server.js';
import { MetadataStandin } from '../../../local/standins/metadata/server.js';
import { kubeConfigFor, required, unique } from '../../../local/settings.js';
import { KmsAdmin } from '../../../local/kms-admin.js';
import { create, ensure, kubeHttp, R } from '../../../local/kube-requests.js';
import { Inbox } from '../../../local/inbox.js';
import { seedWorkload, WIDGET_CRD } from '../../../local/sample-workload.js';
import { loadInfra } from '../../unit/infra/infra-model.js';
import { infraDir, infraTools, type InfraTools } from '../../unit/infra/tools.js';
import {
  compareIam,
  describeDifferences,
  describeUses,
  grantsOf,
  usesOf,
  type Difference,
  type Use,
} from '../../iam/iam-compare.js';
import { UNEXERCISED } from '../../iam/permissions.js';

/**
 * IAM proven against the code. Every function runs as deployed (its own
 * process; GKE mode: clusters from the Container API, reached with ADC
 * tokens from the metadata stand-in; Compute Engine; Cloud Storage; the
 * data key wrapped with Cloud KMS; Pub/Sub), each behind recording proxies
 * of its own (local/api-recorder.ts), through every path that needs a
 * permission: a scheduled backup of clusters with zonal and regional disks,
 * Secrets, a shard and snapshots longer than one invocation; a refused BackupCompleted
 * publish (emitCatalog rolls back its marker); a restore with volumes, in
 * several invocations; the response to a cluster's deletion (last-chance
 * snapshots, locks, a standby restore); a scheduled restore drill (one drill
 * per selected cluster, disks made from the snapshots and deleted again);
 * a retention sweep that finishes
 * an abandoned backup and deletes an expired one with its snapshot; and the
 * catalog browser (the ui HTTP function) opening every kind of page. Each
 * recorded call is mapped to the permissions Google documents for it
 * (test/iam/permissions.ts) and the union, per function, is compared with
 * what infra/ grants that function's service account (test/iam/iam-compare.ts):
 * a permission used and not granted fails, and so does one granted and
 * never used.
 */

const PROJECT = 'acme-prod';
/** Where the workload's disks are (seedWorkload's PV names project acme). */
const DISKS = 'acme';
const REGION = 'europe-west1';
const SHOP = { project: PROJECT, location: REGION, name: 'shop' };
/** The same API server as SHOP, backed up by the same policy. */
const TWIN = { project: PROJECT, location: REGION, name: 'shop-twin' };
/** The "target" API server: the standby, and where the copy plan restores. */
const STANDBY = { project: PROJECT, location: REGION, name: 'shop-standby' };
/** Only in the store: the cluster of the retention fixtures. */
const OLD_SHOP = { project: PROJECT, location: REGION, name: 'old-shop' };
/** What infra/ is evaluated with: the KMS key on, so its bindings are read too. */
const INFRA_VARS = { project: 'lifeboat-iam', kms_enabled: true };
const FUNCTIONS = Object.keys(Functions) as FunctionName[];
/** Every function whose account is compared: the Pub/Sub ones and the HTTP ones. */
const COMPARED: readonly string[] = [...FUNCTIONS, ...HttpFunctions];
const DAY = 86_400_000;

type Msg = Record<string, unknown> & {
  restoreId?: string;
  phase?: string;
  cluster?: { name: string };
  actions?: string[];
};

function deleteClusterEntry(cluster: typeof SHOP, operationId: string): object {
  const name = `projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`;
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
      resourceName: name,
      authenticationInfo: { principalEmail: 'someone@example.com' },
      request: { '@type': 'type.googleapis.com/google.container.v1.DeleteClusterRequest', name },
    },
    operation: { id: operationId, producer: 'container.googleapis.com', first: true },
  };
}

async function until(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs / 1000}s: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('IAM: what each function calls is what infra/ grants it, no more, no less', function () {
  this.timeout(300_000);
  const ns = unique('iam');
  const policyName = unique('iam');
  const topicPrefix = `lb-${unique('iam').slice(4)}-`;
  const bucket = unique('lifeboat-iam');
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-iam-'));
  const callsFile = join(dir, 'api-calls.jsonl');
  const policy = {
    name: policyName,
    projects: [PROJECT],
    clusterNames: [SHOP.name, TWIN.name],
    filters: { includeNamespaces: [ns] },
    standbyCluster: STANDBY,
    ttlDays: 1,
  };
  const copyPlan = {
    name: unique('copy'),
    sourceClusters: [SHOP],
    targetClusters: [STANDBY],
    options: {
      namespaceMapping: { [ns]: `${ns}-copy` },
      excludeResources: ['customresourcedefinitions.*', 'clusterroles.*'],
    },
  };
  const regionalPv = `${ns}-regional-pv`;
  /** Drills SHOP's backups into the standby cluster, volumes included. */
  const drillPolicy = {
    name: unique('drill'),
    projects: [PROJECT],
    clusterNames: [SHOP.name],
    backupPolicies: [policyName],
    drillCluster: STANDBY,
    namespaces: [ns],
    timeoutSeconds: 600,
  };

  let tools: InfraTools;
  let recorder: ApiRecorder;
  let compute: ComputeStandin;
  let container: ContainerStandin;
  let metadata: MetadataStandin;
  let kms: KmsStandin;
  let kmsKey: string;
  let pipeline: LocalPipeline;
  let bus: PubSubBus;
  let store: GcsStore;
  let completed: Inbox<Msg>;
  let restored: Inbox<Msg>;
  let responses: Inbox<Msg>;
  let drilled: Inbox<Msg>;
  let uses: Use[] = [];
  let environment: Record<string, string> = {};
  let unmapped: string[] = [];
  let started = 0;

  before(async function () {
    this.timeout(30 * 60_000); // the first run builds OpenTofu
    started = Date.now();
    tools = infraTools();
    const storage = new Storage({
      apiEndpoint: required('LIFEBOAT_STORAGE_ENDPOINT'),
      projectId: 'lifeboat-local',
    });
    await storage.createBucket(bucket);
    store = new GcsStore(storage, bucket, 'lifeboat');
    compute = await ComputeStandin.start();
    container = await ContainerStandin.start();
    // SHOP and TWIN are both the local "source" API server, so that their backups hold the same
    // objects: the second to store a pack finds it there and touches it (storage.objects.update).
    container.addClusterFromKubeConfig(kubeConfigFor('source'), SHOP);
    container.addClusterFromKubeConfig(kubeConfigFor('source'), TWIN);
    container.addClusterFromKubeConfig(kubeConfigFor('target'), STANDBY);
    // The functions' identity: ADC tokens from the metadata server, which the API server accepts.
    metadata = await MetadataStandin.start({
      projectId: 'lifeboat-iam',
      accessToken: required('LIFEBOAT_GKE_TOKEN'),
    });
    // The data key is wrapped with a Cloud KMS key, as deployed.
    kms = await KmsStandin.start();
    const admin = new KmsAdmin(kms);
    try {
      kmsKey = await admin.createKey({
        project: 'lifeboat-iam',
        location: REGION,
        keyRing: unique('lifeboat'),
        key: 'catalog',
      });
    } finally {
      await admin.close();
    }
    recorder = new ApiRecorder({ file: callsFile });
    environment = {
      LIFEBOAT_STORE: `gs://${bucket}/lifeboat`,
      LIFEBOAT_PROJECT: 'lifeboat-iam',
      LIFEBOAT_TOPIC_PREFIX: topicPrefix,
      // Every function gets the key, as every one could need it: whether it uses it is recorded.
      LIFEBOAT_KMS_KEY: kmsKey,
      LIFEBOAT_KMS_ENDPOINT: kms.url,
      LIFEBOAT_KUBECONFIG: '',
      LIFEBOAT_STORAGE_ENDPOINT: required('LIFEBOAT_STORAGE_ENDPOINT'),
      LIFEBOAT_CONTAINER_ENDPOINT: container.url,
      LIFEBOAT_COMPUTE_ENDPOINT: compute.url,
      LIFEBOAT_LOG_LEVEL: 'info',
      [DEPLOYMENT_ENV]: JSON.stringify({
        backupPolicies: [policy],
        restorePlans: [copyPlan],
        drillPolicies: [drillPolicy],
      }),
      ...metadata.environment(),
    };
    pipeline = new LocalPipeline({
      project: 'lifeboat-iam',
      topicPrefix,
      logDir: dir,
      environment,
      environmentFor: async (name) => ({
        ...(await recorder.environmentFor(name, environment)),
        // No time to spare: a shard with another page, a restore with another wave, and a
        // snapshot still uploading each carry on in a new invocation through their own topic
        // (export-shards, restore, disk-snapshots).
        ...(name === 'exportShard' || name === 'restore' || name === 'snapshotDisks'
          ? { LIFEBOAT_WORK_BUDGET_MS: '1' }
          : {}),
      }),
    });
    await pipeline.start();
    bus = new PubSubBus(new PubSub({ projectId: 'lifeboat-iam' }), { createTopics: false });
    completed = await Inbox.open<Msg>(
      bus,
      pipeline.topic('backup-completed'),
      `${topicPrefix}t-completed`,
    );
    restored = await Inbox.open<Msg>(
      bus,
      pipeline.topic('restore-completed'),
      `${topicPrefix}t-restored`,
    );
    responses = await Inbox.open<Msg>(
      bus,
      pipeline.topic('cluster-responses'),
      `${topicPrefix}t-responses`,
    );
    drilled = await Inbox.open<Msg>(
      bus,
      pipeline.topic('drill-completed'),
      `${topicPrefix}t-drilled`,
    );

    // The workload: Secrets, a CRD, a zonal PD and a regional PD behind claims.
    const http = kubeHttp('source');
    const { pv } = await seedWorkload(http, ns);
    // The copy plan leaves CRDs out: the standby serves Widgets already.
    await ensure(kubeHttp('target'), R.crds, WIDGET_CRD);
    await waitEstablished(kubeHttp('target'), WIDGET_CRD.metadata.name);
    // More ConfigMaps than one LIST page (500), so that their shard takes two invocations.
    await mapLimit(
      Array.from({ length: 501 }, (_, i) => i),
      32,
      (i) =>
        create(http, R.configmaps, {
          metadata: { name: `filler-${i}`, namespace: ns },
          data: { i: String(i) },
        }),
    );
    await create(
      http,
      R.pvs,
      pdCsiVolume(regionalPv, {
        volumeHandle: `projects/${DISKS}/regions/${REGION}/disks/${regionalPv}`,
        claimRef: { namespace: ns, name: 'shared' },
        storage: '10Gi',
        storageClassName: 'regional',
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  {
                    key: 'topology.gke.io/zone',
                    operator: 'In',
                    values: [`${REGION}-b`, `${REGION}-c`],
                  },
                ],
              },
            ],
          },
        },
      }),
    );
    await create(http, R.pvcs, {
      metadata: { name: 'shared', namespace: ns },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'regional',
        volumeName: regionalPv,
        resources: { requests: { storage: '10Gi' } },
      },
    });
    compute.seedDisk({
      project: DISKS,
      zone: `${REGION}-b`,
      name: pv,
      sizeGb: 5,
      type: 'pd-balanced',
      bytes: Buffer.from(`zonal data of ${ns}`),
    });
    compute.seedDisk({
      project: DISKS,
      region: REGION,
      replicaZones: [`${REGION}-b`, `${REGION}-c`],
      name: regionalPv,
      sizeGb: 10,
      type: 'pd-balanced',
      bytes: Buffer.from(`regional data of ${ns}`),
    });
  });

  after(async () => {
    await Promise.all([
      completed?.close(),
      restored?.close(),
      responses?.close(),
      drilled?.close(),
    ]);
    await pipeline?.stop();
    await bus?.close();
    await recorder?.stop();
    await compute?.stop();
    await container?.stop();
    await metadata?.stop();
    await kms?.stop();
    if (!process.env['LIFEBOAT_KEEP_ENV']) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up both clusters, emitCatalog releasing its claim when the announcement is refused once', async () => {
    // The first BackupCompleted emitCatalog publishes is refused (PERMISSION_DENIED): it writes
    // a released claim (it deletes nothing) so that the redelivery announces the backup.
    recorder.inject({
      fn: 'emitCatalog',
      api: 'pubsub',
      path: /\/Publish$/,
      status: 7,
      count: 1,
    });
    // Snapshots upload for longer than one attempt of snapshotDisks, which hands them over.
    compute.setFaults({ snapshotUploadMs: 8000 });
    await bus.publish(pipeline.topic('schedule'), {
      apiVersion: API_VERSION,
      kind: 'ScheduleTick',
      scheduledTime: '2026-11-26T02:00:00Z',
      policy,
    });
    try {
      for (const cluster of [SHOP, TWIN]) {
        const done = await completed.waitFor(
          (m) => m.cluster?.name === cluster.name,
          240_000,
          `BackupCompleted of ${cluster.name}`,
        );
        assert.equal(done.phase, 'Completed', JSON.stringify(done));
      }
    } finally {
      compute.clearFaults();
    }
    const refused = recorder
      .callsOf('emitCatalog')
      .filter((c) => c.api === 'pubsub' && c.status === 7);
    assert.equal(refused.length, 1, 'one announcement was refused');
  });

  it('answers a backup job it may not plan with BackupCompleted Failed', async () => {
    // What exportManifests publishes to backup-completed: a job for a cluster the policy does not select.
    const backupId = unique('refused');
    await bus.publish(pipeline.topic('backup-jobs'), {
      apiVersion: API_VERSION,
      kind: 'ClusterBackupJob',
      backupId,
      cluster: STANDBY,
      policy,
      scheduledTime: '2026-11-26T03:00:00Z',
    });
    const done = await completed.waitFor(
      (m) => m.backupId === backupId,
      240_000,
      'BackupCompleted of the refused job',
    );
    assert.equal(done.phase, 'Failed', JSON.stringify(done));
    assert.match(JSON.stringify(done.errors), /does not select cluster/);
  });

  it('drills the backup on schedule into the drill cluster, its disks made and deleted again', async function () {
    // The workload's finalizer ConfigMap has no controller in the drill cluster: the drill
    // lifts the finalizer of its own copy, so its namespace goes and the drill passes.
    this.timeout(480_000);
    // Before the restores into the same cluster: the drill's volumes are its own, nothing else's.
    // The drill policy's scheduler job: no cluster, so the function lists the clusters it selects.
    await bus.publish(pipeline.topic('drill'), {
      apiVersion: API_VERSION,
      kind: 'DrillJob',
      drillId: 'scheduled',
      policy: drillPolicy,
    });
    const done = await drilled.waitFor(
      (m) => (m['source'] as { name?: string } | undefined)?.name === SHOP.name,
      450_000,
      'DrillCompleted',
    );
    const detail = JSON.stringify(done);
    assert.ok(
      typeof done['rtoSeconds'] === 'number',
      `the drill was verified and timed: ${detail}`,
    );
    assert.equal(done['verdict'], 'passed', detail);
    assert.deepEqual(done['leftBehind'] ?? [], [], `nothing left behind: ${detail}`);
    const deletes = recorder
      .callsOf('drill')
      .filter((c) => c.api === 'compute' && c.method === 'DELETE');
    assert.equal(deletes.length, 2, 'the zonal and the regional disk were deleted');
  });

  it('restores the backup with its volumes into the other cluster', async () => {
    const restoreId = unique('restore');
    await bus.publish(pipeline.topic('restore'), {
      apiVersion: API_VERSION,
      kind: 'RestoreRequest',
      restoreId,
      plan: copyPlan.name,
      backup: { latestOf: SHOP },
      target: STANDBY,
    });
    const done = await restored.waitFor(
      (m) => m.restoreId === restoreId,
      240_000,
      'RestoreCompleted',
    );
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
  });

  it('answers the deletion of a cluster: last-chance snapshots, locks, a standby restore', async () => {
    container.setStatus(SHOP, 'STOPPING');
    await bus.publish(
      pipeline.topic('cluster-events'),
      deleteClusterEntry(SHOP, unique('operation')),
    );
    const response = await responses.waitFor(
      (m) => m.cluster?.name === SHOP.name,
      240_000,
      'ClusterResponse',
    );
    assert.deepEqual(response.actions, [
      'last-chance-snapshots',
      'locked-backups',
      'standby-restore-requested',
    ]);
    const standby = await restored.waitFor(
      (m) => m.restoreId === response['restoreId'],
      240_000,
      'standby RestoreCompleted',
    );
    assert.equal(standby.phase, 'Completed', JSON.stringify(standby));
  });

  it('sweeps: finishes an abandoned backup, deletes an expired one and its snapshot', async () => {
    // Written here, not by the functions: backups as old as a sweep needs them.
    const wrapper = new KmsKeyWrapper(kmsKey, { endpoint: kms.url });
    const sealer = await loadSealer(store, wrapper).finally(() => wrapper.close());
    const encryption = { keyId: sealer.keyId, wrappedBy: wrapper.id };
    const fixturePolicy = validate(BackupPolicy, structuredClone(policy), 'policy');
    const now = Date.now();
    const backup = async (backupId: string, ageMs: number, snapshot?: string): Promise<void> => {
      const at = new Date(now - ageMs).toISOString();
      const plan = await writePlan(store, {
        backupId,
        cluster: OLD_SHOP,
        policy: fixturePolicy,
        kubernetesVersion: 'v1.33.0',
        startedAt: at,
        encryption,
        shards: [],
        volumes: snapshot ? [`${snapshot}-pv`] : [],
        warnings: [],
      });
      if (!snapshot) return; // abandoned: a plan and nothing else
      compute.seedSnapshot({
        project: PROJECT,
        name: snapshot,
        labels: { [BACKUP_LABEL]: backupId },
      });
      await writeVolumePart(store, plan, {
        pvName: `${snapshot}-pv`,
        volume: {
          pvName: `${snapshot}-pv`,
          driver: 'pd.csi.storage.gke.io',
          status: 'READY',
          snapshot: { project: PROJECT, name: snapshot },
          disk: { project: PROJECT, name: `${snapshot}-disk`, zone: `${REGION}-b`, sizeGb: 10 },
        },
        errors: [],
        warnings: [],
      });
      const result = await emitCatalog(store, OLD_SHOP, backupId, fixturePolicy, {
        sealer,
        encryption,
        completedAt: at,
      });
      assert.equal(result.status, 'written');
    };
    const expired = unique('expired');
    const abandoned = unique('abandoned');
    await backup(expired, 40 * DAY, `${expired}-snap`);
    await backup(unique('kept'), DAY, unique('kept-snap'));
    await backup(abandoned, 13 * 3_600_000);

    await bus.publish(pipeline.topic('retention'), {
      apiVersion: API_VERSION,
      kind: 'RetentionTick',
      dryRun: false,
    });
    await until('the sweep deletes the expired backup and its snapshot', 120_000, async () => {
      return (
        !compute.hasSnapshot(PROJECT, `${expired}-snap`) &&
        !(await store.exists(Layout.catalog(OLD_SHOP, expired))) &&
        (await store.exists(Layout.catalog(OLD_SHOP, abandoned)))
      );
    });
  });

  it('browses the store as the ui function: clusters, a timeline, a backup, an object, a diff, restores', async function () {
    const port = await freePort();
    const service = serveFunction('ui', {
      signatureType: 'http',
      port,
      logFile: join(dir, 'function-ui.log'),
      environment: { ...environment, ...(await recorder.environmentFor('ui', environment)) },
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitUntilReady(
        service,
        () =>
          fetch(`${base}/`, { method: 'HEAD' }).then(
            () => true,
            () => false,
          ),
        120_000,
      );
      const [older, newer] = (await listCatalogs(store, SHOP)).slice(-2);
      assert.ok(older && newer, 'SHOP has two backups');
      const cluster = `/clusters/${Layout.clusterKey(SHOP)}`;
      const restoreIds: string[] = [];
      for await (const info of store.list('restores/')) {
        const id = /^restores\/([^/]+)\//.exec(info.key)?.[1];
        if (id && !restoreIds.includes(id)) restoreIds.push(id);
      }
      assert.ok(restoreIds.length > 0, 'a restore has a report');
      const pages = [
        '/',
        cluster,
        `${cluster}/backups/${newer}`,
        `${cluster}/backups/${newer}?q=filler-1`,
        `${cluster}/backups/${newer}/objects?resource=configmaps&namespace=${ns}&name=filler-1`,
        `${cluster}/diff?from=${older}&to=${newer}`,
        '/restores',
        `/restores/${restoreIds[0]}`,
      ];
      for (const page of pages) {
        const response = await fetch(`${base}${page}`);
        assert.equal(response.status, 200, `${page}: ${await response.text()}`);
      }
      // The data key was unwrapped (Secrets' keys shown); nothing was written.
      const calls = recorder.callsOf('ui');
      assert.ok(
        calls.some((c) => c.api === 'kms'),
        'the ui function unwrapped the data key',
      );
      assert.deepEqual(
        calls
          .filter((c) => c.api === 'storage' && c.method !== 'GET')
          .map((c) => `${c.method} ${c.path}`),
        [],
        'the ui function only reads the bucket',
      );
    } finally {
      await stopService(service);
    }
  });

  it('maps every call to the IAM permissions Google documents for it', function () {
    ({ uses, problems: unmapped } = usesOf(recorder.calls, topicPrefix, 'lifeboat/'));
    // What each function used, by scope: with LIFEBOAT_IAM_REPORT=1 (the calls themselves are in
    // the JSON lines file, kept with LIFEBOAT_KEEP_ENV=1).
    const report = [
      `${recorder.calls.length} calls recorded in ${Math.round((Date.now() - started) / 1000)} s (${callsFile})`,
      ...(process.env['LIFEBOAT_IAM_REPORT'] ? [describeUses(uses, COMPARED)] : []),
    ].join('\n');
    process.stdout.write(`${report.replace(/^/gm, '      ')}\n`);
    assert.deepEqual(unmapped, []);
  });

  describe('compared with infra/', function () {
    this.timeout(120_000);
    const differencesWith = (dirPath: string): Difference[] => {
      const model = loadInfra(dirPath, tools, { vars: INFRA_VARS, pathModule: infraDir });
      const { grants, problems } = grantsOf(model);
      assert.deepEqual(problems, [], 'every binding of a function account can be read');
      return compareIam(uses, grants, {
        functions: COMPARED,
        excused: UNEXERCISED,
      });
    };

    it('grants each function exactly the permissions it used', function () {
      assert.ok(
        recorder.calls.some((c) => c.api === 'kms'),
        'the functions used Cloud KMS, so the bindings on the key are compared too',
      );
      // The ui function read the bucket and unwrapped the data key, and used nothing else;
      // infra/ grants it exactly that (below).
      assert.deepEqual(
        uses
          .filter((u) => u.fn === 'ui')
          .map((u) => `${u.scope} ${u.permission}`)
          .sort(),
        [
          'bucket storage.objects.get',
          'bucket storage.objects.list',
          'key cloudkms.cryptoKeyVersions.useToDecrypt',
        ],
      );
      const differences = differencesWith(infraDir);
      assert.equal(
        differences.length,
        0,
        `infra/ and the code disagree on IAM:\n${describeDifferences(differences)}`,
      );
    });

    it('fails when one permission a function uses is removed from infra/', function () {
      const copy = mkdtempSync(join(tmpdir(), 'lifeboat-iam-infra-'));
      try {
        cpSync(infraDir, copy, { recursive: true, filter: (src) => !src.includes('.terraform') });
        const registry = join(copy, 'registry.tf');
        const before = readFileSync(registry, 'utf8');
        // snapshotDisks without compute.disks.createSnapshot: snapshots.insert would be refused.
        const after = before.replace(
          /(^ {4}snapshotDisks = \{[\s\S]*?)\n\s*"compute\.disks\.createSnapshot",/m,
          '$1',
        );
        assert.notEqual(after, before, 'the edit of registry.tf changed nothing: update this test');
        writeFileSync(registry, after);
        const differences = differencesWith(copy);
        const found = differences.filter(
          (d) =>
            d.fn === 'snapshotDisks' &&
            d.kind === 'used, not granted' &&
            d.permission === 'compute.disks.createSnapshot',
        );
        process.stdout.write(
          `      with compute.disks.createSnapshot removed from snapshotDisks:\n${describeDifferences(found).replace(/^/gm, '        ')}\n`,
        );
        assert.equal(found.length, 1, describeDifferences(differences));
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });
  });
});
