import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubeconfigInventory } from '../../../shared/clusters/kubeconfig-inventory.js';
import { NotFoundError, PermanentError } from '../../../shared/errors.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { validate } from '../../../shared/validate.js';
import { kubeConfigFor, required, unique } from '../../../local/settings.js';

/** A policy as a message would carry it, the schema's defaults filled in. */
function policy(overrides: Partial<BackupPolicy> = {}): BackupPolicy {
  return validate(
    BackupPolicy,
    { name: 'local', projects: ['local'], ...overrides },
    'test policy',
  );
}

const local = (name: string): { project: string; location: string; name: string } => ({
  project: 'local',
  location: 'local',
  name,
});

/** Kubeconfig contexts as clusters, against the two real local API servers. */
describe('KubeconfigInventory on the local API servers', () => {
  const kubeconfig = (): string => required('LIFEBOAT_KUBECONFIG');
  let dir: string;
  /** Accepts connections and never answers: an API server that hangs. */
  let silent: Server;
  const silentSockets = new Set<Socket>();
  let silentPort: number;
  let closedPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-kubeconfig-'));
    silent = createServer((socket) => {
      silentSockets.add(socket);
      socket.on('close', () => silentSockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as AddressInfo).port;
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });
  after(async () => {
    for (const socket of silentSockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** LIFEBOAT_KUBECONFIG plus contexts whose servers are `extra` (name -> https URL). */
  function kubeconfigWith(extra: Record<string, string>): string {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig());
    const source = kc.getCluster('source');
    assert.ok(source);
    for (const [name, server] of Object.entries(extra)) {
      kc.addCluster({ ...source, name: `${name}-cluster`, server });
      kc.addContext({ name, cluster: `${name}-cluster`, user: 'source-admin' });
    }
    const file = join(dir, `${unique('kubeconfig')}.yaml`);
    writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
    return file;
  }

  it('lists the "source" and "target" contexts as RUNNING local clusters with their versions', async () => {
    const inventory = new KubeconfigInventory({ kubeconfig: kubeconfig() });
    const { clusters, skipped, unlisted } = await inventory.list(policy());
    assert.deepEqual(
      clusters.map((c) => c.ref),
      [local('source'), local('target')],
    );
    assert.deepEqual(skipped, []);
    assert.deepEqual(unlisted, []);
    for (const c of clusters) {
      assert.equal(c.status, 'RUNNING');
      assert.match(c.kubernetesVersion ?? '', /^v1\.\d+\.\d+/);
      assert.deepEqual(c.labels, {});
    }
    const [source, target] = clusters;
    assert.equal(source?.endpoint, kubeConfigFor('source').getCurrentCluster()?.server);
    assert.equal(target?.endpoint, kubeConfigFor('target').getCurrentCluster()?.server);
  });

  it('connects to each context, reaching its own API server', async () => {
    const inventory = new KubeconfigInventory({ kubeconfig: kubeconfig() });
    const marker = unique('only-target');
    await kubeConfigFor('target')
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: marker } } });
    const namespacesOf = async (name: string): Promise<(string | undefined)[]> => {
      const kc = await inventory.connect(local(name));
      assert.equal(kc.getCurrentContext(), name);
      assert.equal(kc.getContexts().length, 1);
      return (await kc.makeApiClient(CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name);
    };
    const inSource = await namespacesOf('source');
    const inTarget = await namespacesOf('target');
    assert.ok(inSource.includes('kube-system'));
    assert.ok(inTarget.includes(marker));
    assert.ok(!inSource.includes(marker));
  });

  it('skips a context whose API server does not answer in time, or refuses the connection', async () => {
    const file = kubeconfigWith({
      hung: `https://127.0.0.1:${silentPort}`,
      gone: `https://127.0.0.1:${closedPort}`,
    });
    const inventory = new KubeconfigInventory({ kubeconfig: file, probeTimeoutMs: 500 });
    const started = Date.now();
    const { clusters, skipped } = await inventory.list(policy());
    assert.ok(Date.now() - started < 3000, 'the probes run in parallel, each bounded');
    assert.deepEqual(
      clusters.map((c) => c.ref.name),
      ['source', 'target'],
    );
    assert.deepEqual(
      skipped.map((s) => s.cluster),
      [local('gone'), local('hung')],
    );
    const [gone, hung] = skipped;
    assert.match(
      gone?.reason ?? '',
      /^cluster status is UNREACHABLE, not ready for backup: .*ECONNREFUSED/,
    );
    assert.match(
      hung?.reason ?? '',
      /UNREACHABLE.*no answer from https:\/\/127\.0\.0\.1:\d+ within 500 ms/,
    );
    const direct = await inventory.get(local('hung'));
    assert.equal(direct?.status, 'UNREACHABLE');
  });

  it('selects contexts with the same rules as GKE clusters', async () => {
    const inventory = new KubeconfigInventory({ kubeconfig: kubeconfig() });
    const selected = async (p: Partial<BackupPolicy>): Promise<string[]> =>
      (await inventory.list(policy(p))).clusters.map((c) => c.ref.name);
    assert.deepEqual(await selected({ clusterNames: ['tar*'] }), ['target']);
    assert.deepEqual(await selected({ locations: ['local'] }), ['source', 'target']);
    assert.deepEqual(await selected({ locations: ['us-central1'] }), []);
    assert.deepEqual(await selected({ projects: ['prod-project'] }), []);
    assert.deepEqual(await selected({ clusterLabels: { env: 'prod' } }), []);
  });

  it('rejects a selected context that cannot name a cluster, naming it; ignores it when not selected', async () => {
    const file = kubeconfigWith({ 'gke_prod-project_us-central1_shop': 'https://127.0.0.1:1' });
    const inventory = new KubeconfigInventory({ kubeconfig: file });
    await assert.rejects(inventory.list(policy()), (e: unknown) => {
      assert.ok(e instanceof PermanentError);
      assert.match(e.message, /context "gke_prod-project_us-central1_shop" cannot name a cluster/);
      return true;
    });
    const named = await inventory.list(policy({ clusterNames: ['source', 'target'] }));
    assert.deepEqual(
      named.clusters.map((c) => c.ref.name),
      ['source', 'target'],
    );
  });

  it('gets undefined and refuses to connect for an unknown context or a non-local ref', async () => {
    const inventory = new KubeconfigInventory({ kubeconfig: kubeconfig() });
    assert.equal(await inventory.get(local('nope')), undefined);
    assert.equal(
      await inventory.get({ project: 'prod-project', location: 'local', name: 'source' }),
      undefined,
    );
    assert.equal((await inventory.get(local('source')))?.status, 'RUNNING');
    await assert.rejects(inventory.connect(local('nope')), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.match(e.message, /has no context "nope"/);
      return true;
    });
  });

  it('fails to load a missing kubeconfig with a PermanentError naming the file', () => {
    const missing = join(dir, 'missing.yaml');
    assert.throws(
      () => new KubeconfigInventory({ kubeconfig: missing }),
      (e: unknown) => e instanceof PermanentError && e.message.includes(missing),
    );
  });
});
