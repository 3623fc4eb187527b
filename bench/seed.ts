import { mapLimit } from '../shared/concurrency.js';
import { KubeApiError, resourcePath, type KubeHttp } from '../shared/kube/kube-http.js';
import type { ResourceRef } from '../shared/messages/backup.js';
import { Backoff } from '../shared/time/retry.js';
import { countByPagedList } from './paged-list.js';

export const BENCH_RESOURCES = [
  {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
    share: 0.4,
  },
  { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true, share: 0.2 },
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true, share: 0.2 },
  {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    share: 0.2,
  },
] as const;

export const PER_NAMESPACE = 1000;

export function benchNamespaces(n: number): string[] {
  return Array.from({ length: Math.ceil(n / PER_NAMESPACE) }, (_, i) => `bench-${n}-${i}`);
}

function manifest(kind: string, ns: string, name: string, i: number, n: number): object {
  const labels = {
    app: name,
    tier: ['web', 'api', 'worker'][i % 3] ?? 'web',
    'lifeboat.dev/bench': String(n),
  };
  const metadata = {
    name,
    namespace: ns,
    labels,
    annotations: { 'example.com/owner': `team-${i % 17}` },
  };
  switch (kind) {
    case 'ConfigMap':
      return {
        metadata,
        data: {
          'app.properties': `name=${name}\nthreads=${i % 64}\n${'x'.repeat(300)}\n`,
          index: String(i),
        },
      };
    case 'Secret':
      return { metadata, type: 'Opaque', stringData: { password: `pw-${i}-${'s'.repeat(40)}` } };
    case 'Service':
      return {
        metadata,
        spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      };
    default:
      // No replicas: the local clusters have no scheduler or kubelets, so Pods would stay Pending
      // and their Deployments would time out mid-bench and change under an incremental backup.
      return {
        metadata,
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: `registry.example.com/app:${i % 50}`,
                  env: [{ name: 'INDEX', value: String(i) }],
                },
              ],
            },
          },
        },
      };
  }
}

/** How many objects of the N-object bench set the cluster already has. */
export async function countSeeded(http: KubeHttp, n: number): Promise<number> {
  let total = 0;
  for (const r of BENCH_RESOURCES) {
    let token: string | undefined;
    do {
      const page = await http.request<{ items: unknown[]; metadata: { continue?: string } }>(
        'GET',
        resourcePath(r),
        {
          query: { limit: 500, continue: token, labelSelector: `lifeboat.dev/bench=${n}` },
        },
      );
      total += page.items.length;
      token = page.metadata.continue || undefined;
    } while (token);
  }
  return total;
}

/** An API server this loaded may time a create out (504) or shed it (429); seeding tries again. */
const SEED_ATTEMPTS = 6;

/** Creates one seeded object: one already there is kept; an overloaded server is asked again. */
async function createSeeded(http: KubeHttp, path: string, body: object): Promise<void> {
  const backoff = new Backoff(1000, 16_000);
  for (let attempt = 1; ; attempt++) {
    try {
      await http.request('POST', path, { body });
      return;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return;
      const overloaded =
        error instanceof KubeApiError && [429, 500, 503, 504].includes(error.status);
      if (!overloaded || attempt === SEED_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoff.currentMs));
      backoff.grow();
    }
  }
}

/** Seeds N mixed objects into bench namespaces; objects already there are kept. */
export async function seed(
  http: KubeHttp,
  n: number,
  onProgress: (done: number) => void,
): Promise<void> {
  const namespaces = benchNamespaces(n);
  for (const ns of namespaces) {
    try {
      await http.request('POST', '/api/v1/namespaces', { body: { metadata: { name: ns } } });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 409)) throw error;
    }
  }
  const jobs: { ref: (typeof BENCH_RESOURCES)[number]; ns: string; name: string; i: number }[] = [];
  let i = 0;
  for (const ref of BENCH_RESOURCES) {
    const count = Math.round(n * ref.share);
    for (let k = 0; k < count && jobs.length < n; k++, i++) {
      const ns = namespaces[i % namespaces.length] as string;
      jobs.push({ ref, ns, name: `${ref.resource.slice(0, -1)}-${k}`, i });
    }
  }
  let done = 0;
  await mapLimit(jobs, 32, async (job) => {
    await createSeeded(
      http,
      resourcePath(job.ref, job.ns),
      manifest(job.ref.kind, job.ns, job.name, job.i, n),
    );
    if (++done % 1000 === 0) onProgress(done);
  });
}

/**
 * The floor: a bare paginated LIST of the same resources the backup lists
 * (bench-policy.ts), through raw HTTP, as parallel as the export.
 */
export async function bareList(
  http: KubeHttp,
  resources: readonly ResourceRef[],
  onItems?: (items: readonly Listed[]) => void,
): Promise<number> {
  return countByPagedList<Listed>(http, resources, {
    onPage: (_, page) => onItems?.(page.items),
  });
}

/** What the seed's check reads of a listed object. */
type Listed = { metadata: { resourceVersion?: string } };

/** How many objects the resources hold and the newest revision among them: changes with any write to them. */
async function fingerprint(http: KubeHttp, resources: readonly ResourceRef[]): Promise<string> {
  let newest = 0n;
  const objects = await bareList(http, resources, (items) => {
    for (const item of items) {
      const revision = BigInt(item.metadata.resourceVersion ?? '0');
      if (revision > newest) newest = revision;
    }
  });
  return `${objects} objects, newest at revision ${newest}`;
}

/**
 * Waits until the controllers are done with the seed: a ReplicaSet per
 * Deployment, Endpoints and an EndpointSlice per Service, and the status
 * they write back. Done when neither the count of the backup's objects nor
 * the newest revision among them moves over three LISTs 2 s apart.
 */
export async function settle(
  http: KubeHttp,
  resources: readonly ResourceRef[],
  onProgress: (state: string) => void,
): Promise<string> {
  let last = '';
  let same = 0;
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    let state: string;
    try {
      state = await fingerprint(http, resources);
    } catch (error) {
      // A LIST that outlasts a compaction loses its continue token: list again from the start.
      if (!(error instanceof KubeApiError && error.status === 410)) throw error;
      onProgress('a LIST outlasted a compaction (410): listing again');
      last = '';
      same = 0;
      continue;
    }
    same = state === last ? same + 1 : 0;
    last = state;
    if (same >= 2) return state;
    if (Date.now() > deadline) {
      throw new Error(`the controllers were still writing after 15 minutes (${state})`);
    }
    onProgress(state);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
