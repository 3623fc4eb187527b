import { strict as assert } from 'node:assert';
import { ClusterManagerClient } from '@google-cloud/container';
import { CoreV1Api } from '@kubernetes/client-node';
import { GkeInventory } from '../../../shared/clusters/gke-inventory.js';
import { NotFoundError, TransientError } from '../../../shared/errors.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { validate } from '../../../shared/validate.js';
import { ContainerStandin } from '../../../local/standins/container/server.js';
import { kubeConfigFor, required, unique } from '../../../local/settings.js';

/** A policy as a message would carry it, the schema's defaults filled in. */
function policy(overrides: Partial<BackupPolicy> = {}): BackupPolicy {
  return validate(
    BackupPolicy,
    { name: 'nightly', projects: ['prod-project'], ...overrides },
    'test policy',
  );
}

const names = (clusters: { ref: { location: string; name: string } }[]): string[] =>
  clusters.map((c) => `${c.ref.location}/${c.ref.name}`);

/** The real @google-cloud/container ClusterManagerClient against the Container API stand-in. */
describe('GkeInventory against the Container API stand-in', () => {
  let standin: ContainerStandin;
  let inventory: GkeInventory;
  const sourceToken = (): string => {
    const token = kubeConfigFor('source').getCurrentUser()?.token;
    assert.ok(token, 'the source kubeconfig has a token');
    return token;
  };

  before(async () => {
    standin = await ContainerStandin.start();
    inventory = new GkeInventory({
      client: standin.clientOptions(),
      accessToken: async () => sourceToken(),
    });
  });
  after(async () => {
    await inventory.close();
    await standin.stop();
  });

  beforeEach(() => {
    standin.reset();
    const seeds: { location: string; name: string; labels: Record<string, string> }[] = [
      { location: 'us-central1-a', name: 'shop', labels: { env: 'prod', team: 'web' } },
      { location: 'europe-west1', name: 'shop-eu', labels: { env: 'prod', team: 'web' } },
      { location: 'asia-east1-b', name: 'payments', labels: { env: 'prod', team: 'pay' } },
      { location: 'us-central1-a', name: 'sandbox', labels: { env: 'dev' } },
    ];
    for (const c of seeds) {
      standin.addCluster({ project: 'prod-project', ...c });
    }
    standin.addCluster({
      project: 'prod-project',
      location: 'us-east1',
      name: 'shop-new',
      status: 'PROVISIONING',
      labels: { env: 'prod' },
    });
    standin.addCluster({
      project: 'prod-project',
      location: 'us-east1',
      name: 'shop-old',
      status: 'STOPPING',
      statusMessage: 'Deleting cluster',
      labels: { env: 'prod' },
    });
    standin.addCluster({ project: 'shared-services', location: 'us-central1', name: 'tools' });
  });
  it('lists every location of a project with one call to locations/-, decoding status, labels, version', async () => {
    const { clusters, skipped, unlisted } = await inventory.list(policy());
    assert.deepEqual(names(clusters), [
      'asia-east1-b/payments',
      'europe-west1/shop-eu',
      'us-central1-a/sandbox',
      'us-central1-a/shop',
    ]);
    assert.equal(skipped.length, 2);
    assert.deepEqual(unlisted, []);
    assert.equal(standin.callCount('clusters.list'), 1);
    assert.match(
      standin.requests[0]?.url ?? '',
      /^\/v1\/projects\/prod-project\/locations\/-\/clusters\?/,
    );
    const shop = clusters.find((c) => c.ref.name === 'shop');
    const record = standin.cluster({
      project: 'prod-project',
      location: 'us-central1-a',
      name: 'shop',
    });
    assert.deepEqual(shop, {
      ref: { project: 'prod-project', location: 'us-central1-a', name: 'shop' },
      status: 'RUNNING',
      labels: { env: 'prod', team: 'web' },
      endpoint: record?.endpoint,
      kubernetesVersion: record?.currentMasterVersion,
      createTime: record?.createTime,
      // Cluster.locations: a zonal cluster's nodes run in its zone.
      zones: ['us-central1-a'],
    });
  });

  it('asks for numeric enums, as the REST transport does, and still reads status names', async () => {
    const { clusters } = await inventory.list(policy());
    assert.match(standin.requests[0]?.url ?? '', /enum-encoding=int/);
    assert.ok(clusters.every((c) => c.status === 'RUNNING'));
  });

  it('asks for only the fields it reads (X-Goog-FieldMask), each a real field of the v1 API', async () => {
    const unmasked = new GkeInventory({
      client: standin.clientOptions(),
      accessToken: async () => 't',
      fieldMask: false,
    });
    try {
      const masked = await inventory.list(policy());
      const full = await unmasked.list(policy());
      assert.deepEqual(masked, full);
      const ref = { project: 'prod-project', location: 'europe-west1', name: 'shop-eu' };
      assert.deepEqual(await inventory.get(ref), await unmasked.get(ref));
      const [maskedList, fullList, maskedGet, fullGet] = standin.requests;
      assert.match(
        maskedList?.fieldMask ?? '',
        /^clusters\.name,.*clusters\.status,.*missingZones$/,
      );
      assert.equal(fullList?.fieldMask, undefined);
      assert.match(maskedGet?.fieldMask ?? '', /masterAuth\.clusterCaCertificate/);
      assert.equal(fullGet?.fieldMask, undefined);
    } finally {
      await unmasked.close();
    }
  });

  it('(stand-in) refuses a field mask naming no field, as the real API does', async () => {
    const url = `${standin.url}/v1/projects/prod-project/locations/-/clusters`;
    const bad = await fetch(url, {
      headers: { 'X-Goog-FieldMask': 'clusters.name,clusters.statuss' },
    });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { error: { status: string; message: string } };
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
    assert.match(body.error.message, /'statuss'/);
    const below = await fetch(`${url}?fields=clusters.name.first`);
    assert.equal(below.status, 400);
    const good = await fetch(`${url}?fields=clusters.name,clusters.resourceLabels.env`);
    const listed = (await good.json()) as { clusters: Record<string, unknown>[] };
    assert.ok(listed.clusters.length > 0);
    assert.ok(listed.clusters.every((c) => Object.keys(c).sort().join() === 'name,resourceLabels'));
  });

  it('falls back to whole resources, for good, when the API refuses the field mask', async () => {
    const fresh = new GkeInventory({
      client: standin.clientOptions(),
      accessToken: async () => 't',
    });
    try {
      standin.rejectFieldMasks = true;
      assert.equal((await fresh.list(policy())).clusters.length, 4);
      assert.equal((await fresh.list(policy())).clusters.length, 4);
      assert.deepEqual(
        standin.requests.map((r) => r.fieldMask !== undefined),
        [true, false, false],
      );
    } finally {
      await fresh.close();
    }
  });

  it('filters by name globs and resource labels', async () => {
    const web = await inventory.list(
      policy({ clusterNames: ['shop*'], clusterLabels: { team: 'web' } }),
    );
    assert.deepEqual(names(web.clusters), ['europe-west1/shop-eu', 'us-central1-a/shop']);
    const prod = await inventory.list(policy({ clusterLabels: { env: 'prod' } }));
    assert.deepEqual(names(prod.clusters), [
      'asia-east1-b/payments',
      'europe-west1/shop-eu',
      'us-central1-a/shop',
    ]);
  });

  it('lists named locations one call each, and several projects', async () => {
    const result = await inventory.list(
      policy({
        projects: ['prod-project', 'shared-services'],
        locations: ['us-central1-a', 'us-central1'],
      }),
    );
    assert.deepEqual(
      result.clusters.map((c) => `${c.ref.project}/${c.ref.location}/${c.ref.name}`),
      [
        'prod-project/us-central1-a/sandbox',
        'prod-project/us-central1-a/shop',
        'shared-services/us-central1/tools',
      ],
    );
    assert.deepEqual(standin.requests.map((r) => r.url.split('?')[0]).sort(), [
      '/v1/projects/prod-project/locations/us-central1-a/clusters',
      '/v1/projects/prod-project/locations/us-central1/clusters',
      '/v1/projects/shared-services/locations/us-central1-a/clusters',
      '/v1/projects/shared-services/locations/us-central1/clusters',
    ]);
  });

  it('skips selected clusters that are not RUNNING, with the status and its message', async () => {
    const { clusters, skipped } = await inventory.list(policy({ locations: ['us-east1'] }));
    assert.deepEqual(clusters, []);
    assert.deepEqual(skipped, [
      {
        cluster: { project: 'prod-project', location: 'us-east1', name: 'shop-new' },
        reason: 'cluster status is PROVISIONING, not ready for backup',
      },
      {
        cluster: { project: 'prod-project', location: 'us-east1', name: 'shop-old' },
        reason: 'cluster status is STOPPING, not ready for backup: Deleting cluster',
      },
    ]);
  });

  it('gets one cluster, and undefined (not an error) for an unknown one', async () => {
    const found = await inventory.get({
      project: 'prod-project',
      location: 'europe-west1',
      name: 'shop-eu',
    });
    assert.equal(found?.status, 'RUNNING');
    assert.deepEqual(found?.labels, { env: 'prod', team: 'web' });
    const missing = await inventory.get({
      project: 'prod-project',
      location: 'europe-west1',
      name: 'nope',
    });
    assert.equal(missing, undefined);
    assert.equal(standin.callCount('clusters.get'), 2);
  });

  it('throws NotFoundError when connecting to an unknown cluster', async () => {
    await assert.rejects(
      inventory.connect({ project: 'prod-project', location: 'europe-west1', name: 'nope' }),
      (e: unknown) =>
        e instanceof NotFoundError &&
        /projects\/prod-project\/locations\/europe-west1\/clusters\/nope/.test(e.message),
    );
  });

  it('retries a 503 inside the client and succeeds', async () => {
    standin.failNext(1, 503, 'clusters.list');
    const { clusters } = await inventory.list(policy());
    assert.equal(clusters.length, 4);
    assert.equal(standin.callCount('clusters.list'), 2);
  });

  it('surfaces 429 and 500 as a retryable TransientError naming the listing', async () => {
    for (const code of [429, 500] as const) {
      standin.failNext(1, code, 'clusters.list');
      await assert.rejects(inventory.list(policy()), (e: unknown) => {
        assert.ok(e instanceof TransientError, String(e));
        assert.equal(e.retryable, true);
        assert.match(
          e.message,
          new RegExp(`list clusters in projects/prod-project/locations/- \\(HTTP ${code}\\)`),
        );
        return true;
      });
    }
  });

  it('surfaces a 503 that outlasts the attempts as TransientError', async () => {
    const impatient = new GkeInventory({
      client: standin.clientOptions(),
      accessToken: async () => 't',
      maxAttempts: 2,
    });
    try {
      standin.failNext(5, 503, 'clusters.list');
      await assert.rejects(impatient.list(policy()), TransientError);
      assert.equal(standin.callCount('clusters.list'), 2);
    } finally {
      await impatient.close();
    }
  });

  it('records a project it may not list, and still lists the others', async () => {
    standin.denyProject('shared-services');
    const result = await inventory.list(policy({ projects: ['prod-project', 'shared-services'] }));
    assert.equal(result.clusters.length, 4);
    assert.equal(result.unlisted.length, 1);
    assert.equal(result.unlisted[0]?.project, 'shared-services');
    assert.match(result.unlisted[0]?.reason ?? '', /HTTP 403.*container\.clusters\.list.*denied/);
  });

  it("records the API's missingZones, whose clusters it cannot see", async () => {
    standin.setMissingZones('prod-project', ['asia-east1-b']);
    const result = await inventory.list(policy());
    assert.ok(!names(result.clusters).includes('asia-east1-b/payments'));
    assert.deepEqual(
      result.unlisted.map((u) => [u.project, u.location]),
      [['prod-project', 'asia-east1-b']],
    );
  });

  it('connects to a cluster whose endpoint is the real local "source" API server, with the injected token', async () => {
    const source = kubeConfigFor('source');
    const ref = { project: 'prod-project', location: 'us-central1-c', name: 'local-source' };
    const record = standin.addClusterFromKubeConfig(source, ref);
    try {
      assert.match(record.endpoint, /^127\.0\.0\.1:\d+$/);
      const marker = unique('gke-connect');
      await source
        .makeApiClient(CoreV1Api)
        .createNamespace({ body: { metadata: { name: marker } } });

      const kc = await inventory.connect(ref);
      assert.equal(kc.getCurrentCluster()?.server, `https://${record.endpoint}`);
      assert.equal(kc.getCurrentCluster()?.caData, record.caCertificate);
      const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
      const listed = namespaces.items.map((n) => n.metadata?.name);
      assert.ok(listed.includes(marker), `${marker} in ${listed.join(', ')}`);
      assert.ok(listed.includes('kube-system'));
    } finally {
      standin.removeCluster(ref);
    }
  });

  it('sends exactly the token it is given (RBAC refuses a token that may do nothing)', async () => {
    const ref = { project: 'prod-project', location: 'us-central1-c', name: 'local-source' };
    standin.addClusterFromKubeConfig(kubeConfigFor('source'), ref);
    const nobody = new GkeInventory({
      client: standin.clientOptions(),
      accessToken: async () => required('LIFEBOAT_SOURCE_UNPRIVILEGED_TOKEN'),
    });
    try {
      const kc = await nobody.connect(ref);
      await assert.rejects(
        kc.makeApiClient(CoreV1Api).listNamespace(),
        (e: { code?: number }) => e.code === 403,
      );
    } finally {
      standin.removeCluster(ref);
      await nobody.close();
    }
  });

  it('connects through the private or DNS endpoint when told to', async () => {
    const ref = { project: 'prod-project', location: 'us-central1', name: 'private-shop' };
    standin.addCluster({
      ...ref,
      endpoint: '34.1.2.3',
      privateEndpoint: '10.128.0.2',
      dnsEndpoint: 'gke-0123abcd.us-central1.gke.goog',
    });
    const privateInv = new GkeInventory({
      client: standin.clientOptions(),
      accessToken: async () => 't',
      endpoint: 'private',
    });
    const dnsInv = new GkeInventory({
      client: standin.clientOptions(),
      accessToken: async () => 't',
      endpoint: 'dns',
    });
    try {
      const viaPrivate = await privateInv.connect(ref);
      assert.equal(viaPrivate.getCurrentCluster()?.server, 'https://10.128.0.2');
      assert.ok(viaPrivate.getCurrentCluster()?.caData);
      const viaDns = await dnsInv.connect(ref);
      assert.equal(viaDns.getCurrentCluster()?.server, 'https://gke-0123abcd.us-central1.gke.goog');
      assert.equal(viaDns.getCurrentCluster()?.caData, undefined);
      assert.equal((await inventory.connect(ref)).getCurrentCluster()?.server, 'https://34.1.2.3');
    } finally {
      standin.removeCluster(ref);
      await privateInv.close();
      await dnsInv.close();
    }
  });

  it('lists 1200 clusters across locations in one call, each exactly once', async () => {
    const locations = ['us-central1', 'us-central1-a', 'europe-west4-b', 'asia-northeast1'];
    for (let i = 0; i < 1200; i++) {
      standin.addCluster({
        project: 'big-project',
        location: locations[i % locations.length] ?? '-',
        name: `fleet-${i}`,
        labels: { backup: i % 3 === 0 ? 'no' : 'yes' },
      });
    }
    const result = await inventory.list(
      policy({ projects: ['big-project'], clusterLabels: { backup: 'yes' } }),
    );
    assert.equal(result.clusters.length, 800);
    assert.equal(new Set(result.clusters.map((c) => c.ref.name)).size, 800);
    assert.ok(result.clusters.every((c) => c.labels['backup'] === 'yes'));
    assert.equal(standin.callCount('clusters.list'), 1);
  });
});

/** The stand-in's create, delete and operations endpoints, through the same real client. */
describe('Container API stand-in: create, delete, operations', () => {
  let standin: ContainerStandin;
  let client: ClusterManagerClient;
  let inventory: GkeInventory;

  before(async () => {
    standin = await ContainerStandin.start();
    client = new ClusterManagerClient(standin.clientOptions());
    inventory = new GkeInventory({ client: standin.clientOptions(), accessToken: async () => 't' });
  });
  after(async () => {
    await client.close();
    await inventory.close();
    await standin.stop();
  });

  it('creates a cluster PROVISIONING, whose operation completes and leaves it RUNNING', async () => {
    const parent = 'projects/prod-project/locations/europe-west1';
    const [op] = await client.createCluster({
      parent,
      cluster: {
        name: 'standby',
        resourceLabels: { role: 'dr' },
        initialClusterVersion: '1.32.2-gke.100',
      },
    });
    assert.equal(op.operationType, 'CREATE_CLUSTER');
    assert.equal(op.status, 'RUNNING');
    assert.match(op.name ?? '', /^operation-\d+-[0-9a-f]{8}$/);
    assert.equal(
      op.targetLink,
      'https://container.googleapis.com/v1/projects/prod-project/locations/europe-west1/clusters/standby',
    );
    const ref = { project: 'prod-project', location: 'europe-west1', name: 'standby' };
    assert.equal((await inventory.get(ref))?.status, 'PROVISIONING');

    const [done] = await client.getOperation({ name: `${parent}/operations/${op.name ?? ''}` });
    assert.equal(done.status, 'DONE');
    assert.ok(done.endTime);
    const created = await inventory.get(ref);
    assert.equal(created?.status, 'RUNNING');
    assert.deepEqual(created?.labels, { role: 'dr' });
    assert.equal(created?.kubernetesVersion, '1.32.2-gke.100');

    await assert.rejects(
      client.createCluster({ parent, cluster: { name: 'standby' } }),
      (e: { httpStatusCode?: number; message: string }) =>
        e.httpStatusCode === 409 && /Already exists/.test(e.message),
    );
  });

  it('deletes a cluster with a DONE DELETE_CLUSTER operation, after which it is gone', async () => {
    standin.addCluster({ project: 'prod-project', location: 'us-central1-a', name: 'doomed' });
    const name = 'projects/prod-project/locations/us-central1-a/clusters/doomed';
    const [op] = await client.deleteCluster({ name });
    assert.equal(op.operationType, 'DELETE_CLUSTER');
    assert.equal(op.status, 'DONE');
    assert.equal(
      op.selfLink,
      `https://container.googleapis.com/v1/projects/prod-project/locations/us-central1-a/operations/${op.name ?? ''}`,
    );
    assert.equal(op.targetLink, `https://container.googleapis.com/v1/${name}`);
    assert.equal(
      await inventory.get({ project: 'prod-project', location: 'us-central1-a', name: 'doomed' }),
      undefined,
    );
    await assert.rejects(
      client.deleteCluster({ name }),
      (e: { httpStatusCode?: number }) => e.httpStatusCode === 404,
    );
  });

  it('answers an unsupported method with 404 and counts it', async () => {
    await assert.rejects(
      client.getServerConfig({ name: 'projects/prod-project/locations/us-central1' }),
    );
    assert.equal(standin.callCount('unsupported'), 1);
  });
});
