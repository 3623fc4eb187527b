import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  VersionApi,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import { buildKubeCluster, startKubeCluster } from '../../local/kube-apiserver.js';
import { stopService } from '../../local/process.js';
import { kubeConfigFor, required, unique } from '../../local/settings.js';

for (const which of ['source', 'target'] as const) {
  describe(`kube-apiserver "${which}"`, () => {
    it('reports the pinned Kubernetes version', async () => {
      const info = await kubeConfigFor(which).makeApiClient(VersionApi).getCode();
      assert.match(info.gitVersion, /^v1\.\d+\.\d+$/);
      assert.notEqual(info.gitVersion, 'v0.0.0-master+$Format:%H$');
    });

    it('creates and lists objects through @kubernetes/client-node', async () => {
      const core = kubeConfigFor(which).makeApiClient(CoreV1Api);
      const namespace = unique('ns');
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: 'settings' }, data: { color: 'blue' } },
      });
      const list = await core.listNamespacedConfigMap({ namespace });
      // Beside kube-root-ca.crt, which the controllers publish in every namespace.
      assert.deepEqual(
        list.items.filter((c) => c.metadata?.name === 'settings').map((c) => c.data?.['color']),
        ['blue'],
      );
    });
  });
}

describe('the two API servers are separate clusters with RBAC on', () => {
  it('keeps objects of one out of the other', async () => {
    const namespace = unique('only-source');
    await kubeConfigFor('source')
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } });
    await assert.rejects(
      kubeConfigFor('target').makeApiClient(CoreV1Api).readNamespace({ name: namespace }),
      (e: { code?: number }) => e.code === 404,
    );
  });

  it('forbids a user that RBAC grants nothing', async () => {
    const kc = kubeConfigFor('source');
    const user = kc.getCurrentUser();
    assert.ok(user);
    kc.users = kc.users.map((u) =>
      u.name === user.name ? { ...u, token: required('LIFEBOAT_SOURCE_UNPRIVILEGED_TOKEN') } : u,
    );
    await assert.rejects(
      kc.makeApiClient(CoreV1Api).listNamespace(),
      (e: { code?: number }) => e.code === 403,
    );
  });
});

/**
 * Polls `probe` until it returns a value, failing with `what` after
 * `timeoutMs`. The default is long because the garbage collector and the
 * namespace controller pause for up to 30 s whenever another test leaves a
 * resource that cannot be listed (a CRD whose conversion webhook is down).
 */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs / 1000}s: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const notFound = (e: { code?: number }): boolean => e.code === 404;

/** True once `read` answers 404. */
async function gone(read: () => Promise<unknown>): Promise<true | undefined> {
  try {
    await read();
    return undefined;
  } catch (error) {
    if (notFound(error as { code?: number })) return true;
    throw error;
  }
}

const container = { name: 'main', image: 'registry.invalid/app:1' };

for (const which of ['source', 'target'] as const) {
  describe(`the controllers of "${which}"`, function () {
    this.timeout(200_000); // room for two waits of `eventually`
    const kc = (): ReturnType<typeof kubeConfigFor> => kubeConfigFor(which);
    let namespace = '';

    beforeEach(async () => {
      namespace = unique('controllers');
      await kc()
        .makeApiClient(CoreV1Api)
        .createNamespace({ body: { metadata: { name: namespace } } });
    });

    it('give a Deployment a ReplicaSet it owns, and the ReplicaSet its Pods', async () => {
      const apps = kc().makeApiClient(AppsV1Api);
      const labels = { app: 'web' };
      const deployment = await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: 'web' },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [container] } },
          },
        },
      });
      const replicaSet = await eventually('a ReplicaSet owned by the Deployment', async () =>
        (await apps.listNamespacedReplicaSet({ namespace })).items.find((rs) =>
          rs.metadata?.ownerReferences?.some((o) => o.uid === deployment.metadata?.uid),
        ),
      );
      const pods = await eventually('two Pods owned by the ReplicaSet', async () => {
        const owned = (
          await kc().makeApiClient(CoreV1Api).listNamespacedPod({ namespace })
        ).items.filter((p) =>
          p.metadata?.ownerReferences?.some((o) => o.uid === replicaSet.metadata?.uid),
        );
        return owned.length === 2 ? owned : undefined;
      });
      // No scheduler or kubelet: the Pods exist but never run.
      assert.deepEqual(
        pods.map((p) => p.status?.phase),
        ['Pending', 'Pending'],
      );
    });

    it('give a Job its Pod', async () => {
      const job = await kc()
        .makeApiClient(BatchV1Api)
        .createNamespacedJob({
          namespace,
          body: {
            metadata: { name: 'once' },
            spec: {
              template: { spec: { restartPolicy: 'Never', containers: [container] } },
            },
          },
        });
      const pod = await eventually('a Pod owned by the Job', async () =>
        (await kc().makeApiClient(CoreV1Api).listNamespacedPod({ namespace })).items.find((p) =>
          p.metadata?.ownerReferences?.some((o) => o.uid === job.metadata?.uid),
        ),
      );
      assert.equal(pod.metadata?.labels?.['batch.kubernetes.io/job-name'], 'once');
    });

    it('garbage-collect an object whose owner uid does not exist, and keep one whose owner does until it goes', async () => {
      const core = kc().makeApiClient(CoreV1Api);
      const owner = await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: 'owner' } },
      });
      const ownedBy = (name: string, uid: string): V1ObjectMeta => ({
        name,
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }],
      });
      // As a restore that kept a backup's owner references would leave it:
      // the owner's name exists, but under another uid.
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: ownedBy('orphan', randomUUID()) },
      });
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: ownedBy('kept', owner.metadata?.uid ?? '') },
      });
      await eventually('the orphan is deleted', () =>
        gone(() => core.readNamespacedConfigMap({ namespace, name: 'orphan' })),
      );
      const kept = await core.readNamespacedConfigMap({ namespace, name: 'kept' });
      assert.equal(kept.metadata?.ownerReferences?.[0]?.uid, owner.metadata?.uid);
      // And once its real owner goes, it goes too.
      await core.deleteNamespacedConfigMap({ namespace, name: 'owner' });
      await eventually('the owner’s dependent is deleted', () =>
        gone(() => core.readNamespacedConfigMap({ namespace, name: 'kept' })),
      );
    });

    it('bind a claim to the volume it fits', async () => {
      const core = kc().makeApiClient(CoreV1Api);
      const volume = unique('pv');
      // A class of its own (no StorageClass object needed) so that no other test's volume fits.
      const storageClassName = unique('static');
      await core.createPersistentVolume({
        body: {
          metadata: { name: volume },
          spec: {
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            storageClassName,
            hostPath: { path: '/tmp/unused' },
          },
        },
      });
      try {
        await core.createNamespacedPersistentVolumeClaim({
          namespace,
          body: {
            metadata: { name: 'data' },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName,
              resources: { requests: { storage: '1Gi' } },
            },
          },
        });
        const claim = await eventually('the claim is Bound', async () => {
          const c = await core.readNamespacedPersistentVolumeClaim({ namespace, name: 'data' });
          return c.status?.phase === 'Bound' ? c : undefined;
        });
        assert.equal(claim.spec?.volumeName, volume);
      } finally {
        await core.deletePersistentVolume({ name: volume }).catch(() => undefined);
      }
    });

    it('delete a namespace with objects in it to the end', async () => {
      const core = kc().makeApiClient(CoreV1Api);
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: 'settings' } },
      });
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'password' }, stringData: { password: 'x' } },
      });
      await core.deleteNamespace({ name: namespace });
      await eventually('the namespace is gone', () =>
        gone(() => core.readNamespace({ name: namespace })),
      );
    });
  });
}

/** The parent pid of a live process, or undefined once it has exited (or is a zombie). */
function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after ")".
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return fields[0] === 'Z' ? undefined : Number(fields[1]);
  } catch {
    return undefined;
  }
}

describe('a local cluster’s controller manager', () => {
  let workDir = '';
  let binary = '';
  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'lifeboat-controllers-'));
    binary = buildKubeCluster();
  });
  after(() => rm(workDir, { recursive: true, force: true }));

  it('is a child of kube-cluster and stops when the cluster is stopped', async () => {
    const cluster = await startKubeCluster(binary, workDir, 'stopped');
    const controllers = cluster.controllers;
    assert.ok(controllers, 'the cluster runs controllers by default');
    assert.equal(parentOf(controllers.pid), cluster.service.child.pid);
    await stopService(cluster.service);
    await eventually('the controller manager has exited', async () =>
      parentOf(controllers.pid) === undefined ? true : undefined,
    );
  });

  it('dies with kube-cluster even when kube-cluster is killed outright', async () => {
    const cluster = await startKubeCluster(binary, workDir, 'killed');
    const pid = cluster.controllers?.pid ?? 0;
    assert.ok(parentOf(pid), 'the controller manager runs');
    try {
      // Only kube-cluster itself, not its process group: the kernel must do the rest.
      cluster.service.child.kill('SIGKILL');
      await eventually('the controller manager has exited', async () =>
        parentOf(pid) === undefined ? true : undefined,
      );
    } finally {
      await stopService(cluster.service);
    }
  });

  it('is not started when opted out', async () => {
    const cluster = await startKubeCluster(binary, workDir, 'bare', { controllers: false });
    try {
      assert.equal(cluster.controllers, undefined);
      const children = readFileSync(
        `/proc/${cluster.service.child.pid}/task/${cluster.service.child.pid}/children`,
        'utf8',
      );
      assert.equal(children.trim(), '', 'kube-cluster has no child process');
    } finally {
      await stopService(cluster.service);
    }
  });
});
