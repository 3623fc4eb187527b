import { strict as assert } from 'node:assert';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { API_VERSION } from '../../../shared/messages/index.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { ContainerStandin } from '../../../local/standins/container/server.js';
import { MetadataStandin } from '../../../local/standins/metadata/server.js';
import { kubeConfigFor, required, unique } from '../../../local/settings.js';
import { create, get, kubeHttp, R } from '../../../local/kube-requests.js';
import { Inbox } from '../../../local/inbox.js';

/** Production: a regional cluster in one project... */
const PROD = { project: 'acme-prod', location: 'europe-west1', name: 'shop' };
const PROD_ZONES = ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'];
/** ...and its standby in another project and another region. */
const STANDBY = { project: 'acme-dr', location: 'europe-west4', name: 'shop-standby' };
const STANDBY_ZONES = ['europe-west4-a', 'europe-west4-b', 'europe-west4-c'];

type Msg = Record<string, unknown> & {
  backupId?: string;
  restoreId?: string;
  phase?: string;
  cluster?: { project: string; name: string };
  actions?: string[];
  notes?: string[];
};

type Pv = {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    csi?: { volumeHandle: string };
    gcePersistentDisk?: { pdName: string };
    claimRef?: { namespace?: string; name?: string };
    nodeAffinity?: {
      required?: {
        nodeSelectorTerms?: { matchExpressions?: { key: string; values?: string[] }[] }[];
      };
    };
  };
};
type Pvc = { spec: { volumeName?: string } };

/** A v1 DeleteCluster audit entry, as the log sink forwards it. */
function deleteEntry(operationId: string): object {
  const path = `projects/${PROD.project}/locations/${PROD.location}/clusters/${PROD.name}`;
  return {
    insertId: `-${operationId}`,
    logName: `projects/${PROD.project}/logs/cloudaudit.googleapis.com%2Factivity`,
    timestamp: new Date().toISOString(),
    severity: 'NOTICE',
    resource: {
      type: 'gke_cluster',
      labels: { project_id: PROD.project, location: PROD.location, cluster_name: PROD.name },
    },
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      serviceName: 'container.googleapis.com',
      methodName: 'google.container.v1.ClusterManager.DeleteCluster',
      resourceName: path,
      authenticationInfo: { principalEmail: 'someone@example.com' },
      request: {
        '@type': 'type.googleapis.com/google.container.v1.DeleteClusterRequest',
        name: path,
      },
    },
    operation: { id: operationId, producer: 'container.googleapis.com', first: true },
  };
}

const zonesOf = (pv: Pv, key: string): string[] | undefined =>
  pv.spec.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.find(
    (e) => e.key === key,
  )?.values;

/**
 * The deletion response in GKE mode, with the standby elsewhere: every
 * function lists and reaches clusters through the Container API (the
 * stand-in, serving the two local API servers as GKE clusters) with the
 * access token Application Default Credentials get from the metadata
 * server (the stand-in), as deployed functions do. Production runs in
 * acme-prod/europe-west1; when it is deleted, its disks are recreated in
 * the standby's project acme-dr and in the standby's own zones of
 * europe-west4 (a regional disk stays regional), and the restored PVs
 * point at them, pre-bound to their claims.
 */
describe('a standby in another project and region gets disks of its own', function () {
  this.timeout(300_000);
  let container: ContainerStandin;
  let metadata: MetadataStandin;
  let lb: LocalLifeboat;
  let completed: Inbox<Msg>;
  let restored: Inbox<Msg>;
  let responses: Inbox<Msg>;
  const ns = unique('standby');
  const disks = {
    zonal: `${ns}-zonal`,
    regional: `${ns}-regional`,
    legacy: `${ns}-legacy`,
  };
  const bytesOf = (disk: string): Buffer => Buffer.from(`the data of ${disk}`);
  const policy = {
    name: unique('elsewhere'),
    projects: [PROD.project],
    locations: [PROD.location],
    clusterNames: [PROD.name],
    filters: { includeNamespaces: [ns] },
    standbyCluster: STANDBY,
  };

  before(async () => {
    container = await ContainerStandin.start();
    container.addClusterFromKubeConfig(kubeConfigFor('source'), {
      ...PROD,
      locations: PROD_ZONES,
    });
    container.addClusterFromKubeConfig(kubeConfigFor('target'), {
      ...STANDBY,
      locations: STANDBY_ZONES,
    });
    metadata = await MetadataStandin.start({
      projectId: required('LIFEBOAT_PROJECT'),
      accessToken: required('LIFEBOAT_GKE_TOKEN'),
      zone: 'europe-west1-b',
    });
    lb = await startLocalLifeboat({
      containerEndpoint: container.url,
      deployment: { backupPolicies: [policy] },
      extraEnvironment: metadata.environment(),
    });
    const inbox = (role: 'backup-completed' | 'restore-completed' | 'cluster-responses') =>
      Inbox.open<Msg>(lb.bus, lb.pipeline.topic(role), `${lb.topicPrefix}t-${role}`);
    completed = await inbox('backup-completed');
    restored = await inbox('restore-completed');
    responses = await inbox('cluster-responses');
    await seed();
  });

  after(async () => {
    await Promise.all([completed?.close(), restored?.close(), responses?.close()]);
    await lb?.stop();
    await metadata?.stop();
    await container?.stop();
  });

  /** In production: a zonal and a regional PD CSI volume, an in-tree one, each with its claim. */
  async function seed(): Promise<void> {
    const source = kubeHttp('source');
    await create(source, R.namespaces, { metadata: { name: ns } });
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns },
      data: { color: 'blue' },
    });
    const claim = async (name: string, pv: string, storage: string): Promise<void> => {
      await create(source, R.pvcs, {
        metadata: { name, namespace: ns },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'standard-rwo',
          volumeName: pv,
          resources: { requests: { storage } },
        },
      });
    };
    const csi = (
      name: string,
      handle: string,
      zones: string[],
      claimName: string,
      storage: string,
    ): object => ({
      metadata: { name },
      spec: {
        capacity: { storage },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: 'standard-rwo',
        claimRef: { namespace: ns, name: claimName },
        csi: { driver: 'pd.csi.storage.gke.io', volumeHandle: handle, fsType: 'ext4' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [{ key: 'topology.gke.io/zone', operator: 'In', values: zones }],
              },
            ],
          },
        },
      },
    });
    await create(
      source,
      R.pvs,
      csi(
        `pv-${disks.zonal}`,
        `projects/${PROD.project}/zones/europe-west1-b/disks/${disks.zonal}`,
        ['europe-west1-b'],
        'data',
        '10Gi',
      ),
    );
    await claim('data', `pv-${disks.zonal}`, '10Gi');
    await create(
      source,
      R.pvs,
      csi(
        `pv-${disks.regional}`,
        `projects/${PROD.project}/regions/europe-west1/disks/${disks.regional}`,
        ['europe-west1-b', 'europe-west1-c'],
        'shared',
        '20Gi',
      ),
    );
    await claim('shared', `pv-${disks.regional}`, '20Gi');
    // An in-tree PV names no project: its disk is in the cluster's project, found by zone label.
    await create(source, R.pvs, {
      metadata: {
        name: `pv-${disks.legacy}`,
        labels: {
          'topology.kubernetes.io/zone': 'europe-west1-c',
          'topology.kubernetes.io/region': 'europe-west1',
        },
      },
      spec: {
        capacity: { storage: '10Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'standard',
        claimRef: { namespace: ns, name: 'legacy' },
        gcePersistentDisk: { pdName: disks.legacy, fsType: 'ext4' },
      },
    });
    await claim('legacy', `pv-${disks.legacy}`, '10Gi');
    // The disks themselves, in production's project, holding bytes a restore must carry over.
    lb.compute.seedDisk({
      project: PROD.project,
      zone: 'europe-west1-b',
      name: disks.zonal,
      sizeGb: 10,
      type: 'pd-balanced',
      bytes: bytesOf(disks.zonal),
    });
    lb.compute.seedDisk({
      project: PROD.project,
      region: 'europe-west1',
      replicaZones: ['europe-west1-b', 'europe-west1-c'],
      name: disks.regional,
      sizeGb: 20,
      type: 'pd-balanced',
      bytes: bytesOf(disks.regional),
    });
    lb.compute.seedDisk({
      project: PROD.project,
      zone: 'europe-west1-c',
      name: disks.legacy,
      sizeGb: 10,
      type: 'pd-standard',
      bytes: bytesOf(disks.legacy),
    });
  }

  let backupId: string;

  it('backs production up through the Container API with the token from the metadata server', async () => {
    await lb.bus.publish(lb.pipeline.topic('schedule'), {
      apiVersion: API_VERSION,
      kind: 'ScheduleTick',
      scheduledTime: '2026-11-30T02:00:00Z',
      policy,
    });
    const done = await completed.waitFor(
      (m) => m.cluster?.name === PROD.name,
      150_000,
      'BackupCompleted of production',
    );
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    backupId = String(done.backupId);
    const catalog = await readCatalog(lb.store, PROD, backupId);
    assert.deepEqual(
      catalog.volumes.map((v) => [v.pvName, v.status]).sort(),
      Object.values(disks)
        .map((d) => [`pv-${d}`, 'READY'])
        .sort(),
      JSON.stringify(catalog.volumes),
    );
    // The API servers were reached with what ADC got from the metadata server, nothing else.
    assert.ok(metadata.tokensIssued >= 1, JSON.stringify(metadata.requests));
    for (const r of metadata.requests.filter((r) => r.path.endsWith('/token'))) {
      // The scope gke-gcloud-auth-plugin asks for, on the function's own service account.
      assert.equal(r.path, '/computeMetadata/v1/instance/service-accounts/default/token');
      assert.equal(
        new URLSearchParams(r.query).get('scopes'),
        'https://www.googleapis.com/auth/cloud-platform',
      );
    }
    assert.deepEqual(
      metadata.requests.filter((r) => r.status >= 400),
      [],
      'every metadata request was well formed',
    );
    // Only production was backed up: the standby is in another project.
    assert.equal(
      completed.count((m) => m.cluster?.name === STANDBY.name),
      0,
    );
  });

  it('restores into the standby, with disks in its project and zones, when production is deleted', async () => {
    const seeded = lb.compute.state.allDisks().length;
    // The cluster goes away at the Container API: that is what confirms the audit entry.
    assert.ok(container.removeCluster(PROD));
    await lb.bus.publish(lb.pipeline.topic('cluster-events'), deleteEntry(`operation-${ns}`));
    const response = await responses.waitFor(
      (m) => m.cluster?.name === PROD.name,
      150_000,
      'ClusterResponse',
    );
    assert.deepEqual(
      response.actions,
      ['last-chance-snapshots', 'locked-backups', 'standby-restore-requested'],
      JSON.stringify(response),
    );
    assert.ok(
      response.notes?.includes('deletion confirmed: the Container API no longer knows the cluster'),
      JSON.stringify(response.notes),
    );
    const done = await restored.waitFor(
      (m) => m.restoreId === response.restoreId,
      150_000,
      'standby RestoreCompleted',
    );
    assert.equal(done.phase, 'Completed', JSON.stringify(done));

    // At the Compute stand-in: three new disks, all in the standby's project, none in production's.
    const created = lb.compute.state.allDisks().slice(seeded);
    assert.deepEqual(
      created.map((d) => d.address.project),
      [STANDBY.project, STANDBY.project, STANDBY.project],
      JSON.stringify(created.map((d) => d.address)),
    );
    const snapshots = lb.compute.state.allSnapshots();
    const from = (name: string) => {
      const disk = created.find((d) =>
        snapshots.some((s) => s.id === d.sourceSnapshot?.id && s.source.path.endsWith(`/${name}`)),
      );
      assert.ok(disk, `a disk restored from a snapshot of ${name}`);
      assert.equal(disk.status, 'READY');
      assert.equal(lb.compute.readDisk(disk.address).toString(), bytesOf(name).toString());
      return disk;
    };
    const zonal = from(disks.zonal);
    assert.deepEqual(zonal.address, {
      project: STANDBY.project,
      name: zonal.address.name,
      zone: 'europe-west4-b',
    });
    const regional = from(disks.regional);
    assert.deepEqual(regional.address, {
      project: STANDBY.project,
      name: regional.address.name,
      region: 'europe-west4',
    });
    assert.deepEqual(regional.replicaZones, ['europe-west4-b', 'europe-west4-c']);
    const legacy = from(disks.legacy);
    assert.deepEqual(legacy.address, {
      project: STANDBY.project,
      name: legacy.address.name,
      zone: 'europe-west4-c',
    });

    // In the standby: each claim pre-bound to a PV that points at its new disk, and back.
    const standby = kubeHttp('target');
    const bound = async (claim: string): Promise<Pv> => {
      const pvc = (await get(standby, R.pvcs, ns, claim)) as unknown as Pvc | undefined;
      assert.ok(pvc?.spec.volumeName, `claim ${claim} names its volume`);
      const pv = (await get(standby, R.pvs, undefined, pvc.spec.volumeName)) as unknown as
        Pv | undefined;
      assert.ok(pv, `PV ${pvc.spec.volumeName} exists`);
      assert.deepEqual(
        { namespace: pv.spec.claimRef?.namespace, name: pv.spec.claimRef?.name },
        { namespace: ns, name: claim },
        `PV ${pv.metadata.name} is claimed by ${claim}`,
      );
      return pv;
    };
    const data = await bound('data');
    assert.equal(
      data.spec.csi?.volumeHandle,
      `projects/${STANDBY.project}/zones/europe-west4-b/disks/${zonal.address.name}`,
    );
    assert.deepEqual(zonesOf(data, 'topology.gke.io/zone'), ['europe-west4-b']);
    const shared = await bound('shared');
    assert.equal(
      shared.spec.csi?.volumeHandle,
      `projects/${STANDBY.project}/regions/europe-west4/disks/${regional.address.name}`,
    );
    assert.deepEqual(zonesOf(shared, 'topology.gke.io/zone'), ['europe-west4-b', 'europe-west4-c']);
    const old = await bound('legacy');
    assert.equal(old.spec.gcePersistentDisk?.pdName, legacy.address.name);
    assert.equal(old.metadata.labels?.['topology.kubernetes.io/zone'], 'europe-west4-c');
    assert.equal(old.metadata.labels?.['topology.kubernetes.io/region'], 'europe-west4');
    assert.ok(await get(standby, R.configmaps, ns, 'settings'));
    assert.deepEqual(
      metadata.requests.filter((r) => r.status >= 400),
      [],
      'every metadata request was well formed',
    );
  });
});
