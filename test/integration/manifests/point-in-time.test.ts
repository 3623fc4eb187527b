import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  exportShardInProcess,
  finishBackup,
  startBackup,
  type InProcessBackup,
} from '../../../shared/backup/run-backup.js';
import { mapLimit } from '../../../shared/concurrency.js';
import { KubeApiError, KubeHttp, resourcePath } from '../../../shared/kube/kube-http.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { waitEstablished } from '../../../shared/restore/apply-object.js';
import { loadBackup } from '../../../shared/catalog/load-backup.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { validate } from '../../../shared/validate.js';
import {
  buildKubeCluster,
  startKubeCluster,
  type LocalCluster,
} from '../../../local/kube-apiserver.js';
import { stopService } from '../../../local/process.js';
import { prng } from '../../../bench/durability-model.js';
import { unique } from '../../../local/settings.js';
import { ensure, kubeHttp, R, type Ref } from '../../../local/kube-requests.js';
import { WIDGET_CRD } from '../../../local/sample-workload.js';

const CLUSTER = { project: 'local', location: 'local', name: 'pit' };
const SEED = Number(process.env['LIFEBOAT_PIT_SEED'] ?? Date.now() % 1_000_000);
const WIDGETS: Ref = R.widgets;

function policyFor(namespaces: string[]): BackupPolicy {
  return validate(
    BackupPolicy,
    { name: 'pit', projects: ['local'], filters: { includeNamespaces: namespaces } },
    'policy',
  );
}

/**
 * Keeps creating, changing and deleting ConfigMaps and custom resources in
 * the given namespaces until stopped, four writes at a time, as a busy
 * cluster does while it is backed up.
 */
function startWriter(
  http: KubeHttp,
  namespaces: string[],
  random: () => number,
): { stop: () => Promise<number> } {
  let running = true;
  let writes = 0;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const one = async (): Promise<void> => {
    const ns = pick(namespaces);
    const ref = random() < 0.6 ? R.configmaps : WIDGETS;
    const name = `obj-${Math.floor(random() * 300)}`;
    const body =
      ref === R.configmaps
        ? { metadata: { name }, data: { v: String(random()) } }
        : {
            apiVersion: 'example.lifeboat.dev/v1',
            kind: 'Widget',
            metadata: { name },
            spec: { color: String(random()), size: Math.floor(random() * 100) },
          };
    const op = random();
    try {
      if (op < 0.45) await http.request('POST', resourcePath(ref, ns), { body });
      else if (op < 0.8)
        await http.request('PATCH', resourcePath(ref, ns, name), {
          body,
          contentType: 'application/merge-patch+json',
        });
      else await http.request('DELETE', resourcePath(ref, ns, name));
      writes++;
    } catch (error) {
      // Creating what exists, changing or deleting what does not: the next write goes on.
      if (!(error instanceof KubeApiError && [404, 409].includes(error.status))) throw error;
    }
  };
  const loops = Array.from({ length: 4 }, async () => {
    while (running) await one();
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return writes;
    },
  };
}

/** Every object of a resource in the namespaces, listed at exactly `revision`: name -> resourceVersion. */
async function listAt(
  http: KubeHttp,
  ref: Ref,
  namespaces: string[],
  revision: string,
): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  for (const ns of namespaces) {
    const list = await http.request<{ items: KubeObject[]; metadata: { resourceVersion: string } }>(
      'GET',
      resourcePath(ref, ns),
      { query: { resourceVersion: revision, resourceVersionMatch: 'Exact' } },
    );
    assert.equal(list.metadata.resourceVersion, revision);
    for (const o of list.items)
      seen.set(`${ns}/${o.metadata.name}`, String(o.metadata.resourceVersion));
  }
  return seen;
}

describe('point-in-time backups', function () {
  this.timeout(300_000);

  describe('while a writer keeps changing the cluster', () => {
    let workDir: string;
    let cluster: LocalCluster;
    let http: KubeHttp;
    const namespaces = ['pit-a', 'pit-b'];

    before(async () => {
      workDir = mkdtempSync(join(tmpdir(), 'lifeboat-pit-'));
      // A cluster of its own that compacts every ten minutes, so that the test can list at R
      // after the backup; no controllers, so that only the writer changes anything.
      cluster = await startKubeCluster(buildKubeCluster(), workDir, 'pit', {
        controllers: false,
        compactionInterval: '10m',
      });
      const kc = new KubeConfig();
      kc.loadFromFile(cluster.kubeconfig);
      http = new KubeHttp(kc);
      await ensure(http, R.crds, WIDGET_CRD);
      await waitEstablished(http, WIDGET_CRD.metadata.name);
      for (const name of namespaces) await ensure(http, R.namespaces, { metadata: { name } });
    });

    after(async () => {
      http?.close();
      if (cluster) await stopService(cluster.service);
      rmSync(workDir, { recursive: true, force: true });
    });

    it(`holds exactly the objects a LIST at its revision holds, for every resource listed there (seed ${SEED})`, async () => {
      process.stdout.write(`      seed ${SEED} (LIFEBOAT_PIT_SEED replays it)\n`);
      const random = prng(SEED);
      // Some objects of each kind before the backup starts.
      await mapLimit(
        Array.from({ length: 200 }, (_, i) => i),
        8,
        async (i) => {
          const name = `obj-${Math.floor(random() * 300)}`;
          const ns = namespaces[i % 2]!;
          const [ref, body] =
            i % 4 === 0
              ? [
                  WIDGETS,
                  {
                    apiVersion: 'example.lifeboat.dev/v1',
                    kind: 'Widget',
                    metadata: { name },
                    spec: { size: 1 },
                  },
                ]
              : [R.configmaps, { metadata: { name }, data: { v: '0' } }];
          await http.request('POST', resourcePath(ref, ns), { body }).catch(() => undefined);
        },
      );
      const store = new LocalStore(join(workDir, 'store'));
      const deps: InProcessBackup = { http, store };
      const job = { backupId: unique('pit'), cluster: CLUSTER, policy: policyFor(namespaces) };
      const writer = startWriter(http, namespaces, random);
      let writes: number;
      try {
        const started = await startBackup(deps, job);
        assert.ok(started.plan.revision, 'the plan records a revision');
        assert.deepEqual(started.plan.namespaces, namespaces, 'listed namespace by namespace');
        // Shards one after another, with writes landing between them (and during them).
        for (const shard of started.plan.shards) {
          await new Promise((r) => setTimeout(r, 50));
          await exportShardInProcess(deps, started, shard);
        }
      } finally {
        writes = await writer.stop();
      }
      const catalog = await finishBackup(deps, job);
      assert.ok(writes > 50, `the writer changed the cluster during the backup (${writes} writes)`);
      const revision = catalog.revision!;
      assert.equal(catalog.phase, 'Completed', catalog.errors.join('\n'));
      const { records } = await loadBackup(store, CLUSTER, job.backupId);
      for (const ref of [R.configmaps, WIDGETS]) {
        const entry = catalog.resources.find(
          (r) => r.group === ref.group && r.resource === ref.resource,
        );
        assert.ok(entry, `${ref.resource} is in the catalog`);
        assert.equal(entry.atRevision, true, `${ref.resource} was listed at ${revision}`);
        const backedUp = new Map(
          records
            .filter((r) => r.ref.group === ref.group && r.ref.resource === ref.resource)
            .map((r) => [`${r.ref.namespace}/${r.ref.name}`, r.ref.resourceVersion]),
        );
        const atR = await listAt(http, ref, namespaces, revision);
        assert.ok(atR.size > 0);
        // Object for object, and each at the version it had at R.
        assert.deepEqual(
          [...backedUp.entries()].sort(),
          [...atR.entries()].sort(),
          `${ref.resource}: the backup equals a LIST at revision ${revision}`,
        );
      }
      // And the cluster did move on: the latest state differs from R.
      const now = await listAt(
        http,
        R.configmaps,
        namespaces,
        (
          await http.request<{ metadata: { resourceVersion: string } }>(
            'GET',
            '/api/v1/namespaces',
            {
              query: { limit: 1 },
            },
          )
        ).metadata.resourceVersion,
      );
      const atR = await listAt(http, R.configmaps, namespaces, revision);
      assert.notDeepEqual([...now.entries()].sort(), [...atR.entries()].sort());
    });
  });

  it('a revision compacted before the shards run: the backup completes and names every resource listed later', async () => {
    // The shared source cluster compacts every five seconds.
    const source = kubeHttp('source');
    const ns = unique('pit-late');
    await ensure(source, R.namespaces, { metadata: { name: ns } });
    await source.request('POST', resourcePath(R.configmaps, ns), {
      body: { metadata: { name: 'before' }, data: { a: 'b' } },
    });
    const workDir = mkdtempSync(join(tmpdir(), 'lifeboat-pit-late-'));
    try {
      const deps: InProcessBackup = { http: source, store: new LocalStore(workDir) };
      const job = { backupId: unique('late'), cluster: CLUSTER, policy: policyFor([ns]) };
      const started = await startBackup(deps, job);
      const revision = started.plan.revision!;
      // Wait until the revision is gone: a LIST at it is refused (410 Gone).
      const deadline = Date.now() + 60_000;
      for (;;) {
        await source.request('POST', resourcePath(R.configmaps, ns), {
          body: { metadata: { generateName: 'tick-' }, data: { a: 'b' } },
        });
        try {
          await source.request('GET', resourcePath(R.configmaps, ns), {
            query: { resourceVersion: revision, resourceVersionMatch: 'Exact' },
          });
        } catch (error) {
          if (error instanceof KubeApiError && error.status === 410) break;
          throw error;
        }
        if (Date.now() > deadline) throw new Error(`revision ${revision} was never compacted`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      for (const shard of started.plan.shards) await exportShardInProcess(deps, started, shard);
      const catalog = await finishBackup(deps, job);
      assert.equal(catalog.phase, 'Completed', catalog.errors.join('\n'));
      assert.equal(catalog.revision, revision);
      const configmaps = catalog.resources.find((r) => r.resource === 'configmaps')!;
      assert.equal(configmaps.atRevision, false, 'configmaps were listed later than R');
      assert.ok(configmaps.objects >= 2, 'and still backed up, at the latest revision');
      assert.ok(catalog.resources.every((r) => r.atRevision === false));
    } finally {
      rmSync(workDir, { recursive: true, force: true });
      await source.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
    }
  });
});
