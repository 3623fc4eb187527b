import { writeCatalog, type UnsignedCatalog } from '../shared/catalog/catalog-io.js';
import type { PackEntry } from '../shared/catalog/catalog-schema.js';
import { Layout } from '../shared/catalog/layout.js';
import { isCut } from '../shared/backup/export-resource.js';
import { encodePack, encodeRecord, type EncodedRecord } from '../shared/catalog/pack.js';
import { mapLimit } from '../shared/concurrency.js';
import { objectKey } from '../shared/kube/list-pages.js';
import type { KubeObject } from '../shared/kube/sanitize.js';
import type { ResourceRef } from '../shared/messages/backup.js';
import { BackupPolicy, type ClusterRef } from '../shared/messages/index.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { validate } from '../shared/validate.js';

/**
 * A synthetic but valid store for the UI benchmark, written straight into
 * the bucket: packs encoded and cut as the export cuts them, catalogs
 * written by writeCatalog. Each cluster's backups are incremental backups
 * of an unchanged cluster: every one names the same packs, so seeding a
 * thousand backups writes each pack once.
 */

/** One seeded cluster: its newest backup holds `objects` objects, in `backups` backups. */
export interface SeededCluster {
  cluster: ClusterRef;
  objects: number;
  backups: number;
}

export interface SeededStore {
  clusters: SeededCluster[];
  /** The newest backup of the largest cluster: the contents page measured. */
  newest: { cluster: ClusterRef; backupId: string; packs: string[] };
  catalogs: number;
}

const NAMESPACES = 100;

const CONFIGMAPS: ResourceRef = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};
const DEPLOYMENTS: ResourceRef = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};

/** The metadata of one of app `i`'s objects, labelled as its Helm chart labels them. */
const helmMetadata = (
  name: string,
  namespace: string,
  i: number,
  annotations: Record<string, string>,
): KubeObject['metadata'] => {
  const app = `app-${i}`;
  const tier = ['web', 'api', 'worker', 'batch'][i % 4] ?? 'web';
  const labels = {
    app,
    'app.kubernetes.io/name': app,
    'app.kubernetes.io/managed-by': 'Helm',
    tier,
  };
  return { name, namespace, labels, annotations };
};

/** A ConfigMap as a Helm chart writes one, sanitised as the export stores it. */
function configMap(namespace: string, i: number): KubeObject {
  const app = `app-${i}`;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: helmMetadata(`${app}-config`, namespace, i, {
      'meta.helm.sh/release-name': app,
      'meta.helm.sh/release-namespace': namespace,
    }),
    data: {
      'application.yaml': `server:\n  port: 8080\n  shutdown: graceful\nlogging:\n  level: info\nfeatures:\n  cache: ${i % 2 === 0}\n  shard: ${i % 16}\n`,
      LOG_FORMAT: 'json',
      UPSTREAM_URL: `http://${app}-upstream.${namespace}.svc.cluster.local:8080`,
    },
  };
}

/** A Deployment with the fields a real one has after sanitising (no status, no managedFields). */
function deployment(namespace: string, i: number): KubeObject {
  const app = `app-${i}`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: helmMetadata(app, namespace, i, {
      'deployment.kubernetes.io/revision': String((i % 7) + 1),
    }),
    spec: {
      replicas: (i % 3) + 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app } },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
      },
      template: {
        metadata: { labels: { app } },
        spec: {
          containers: [
            {
              name: 'app',
              image: `europe-docker.pkg.dev/prod/apps/${app}:1.${i % 40}.0`,
              ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              envFrom: [{ configMapRef: { name: `${app}-config` } }],
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: '256Mi' },
              },
              readinessProbe: {
                httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
                periodSeconds: 10,
                timeoutSeconds: 1,
                successThreshold: 1,
                failureThreshold: 3,
              },
              imagePullPolicy: 'IfNotPresent',
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          schedulerName: 'default-scheduler',
          securityContext: { runAsNonRoot: true },
        },
      },
    },
  };
}

/**
 * One resource's packs, cut as the export cuts them and uploaded (each
 * once: an existing pack is left as it is, as the export leaves it).
 */
async function writePacks(
  store: ObjectStore,
  resource: ResourceRef,
  objects: KubeObject[],
): Promise<PackEntry[]> {
  const shardId = `${resource.resource}${resource.group ? `.${resource.group}` : ''}`;
  const batches: EncodedRecord[][] = [];
  let batch: EncodedRecord[] = [];
  let bytes = 0;
  objects.forEach((obj, i) => {
    const record = encodeRecord(
      {
        ...resource,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        resourceVersion: String(1000 + i),
      },
      { object: obj },
    );
    batch.push(record);
    bytes += record.line.length;
    const key = objectKey(obj);
    // The export's content-defined cuts, so the seeded packs are cut where a real backup's are.
    if (isCut(key, batch.length, bytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
  });
  if (batch.length > 0) batches.push(batch);
  return mapLimit(batches, 4, async (records) => {
    const pack = await encodePack(resource, records);
    await store.createIfAbsent(Layout.pack(pack.digest), pack.gzipped);
    return {
      digest: pack.digest,
      bytes: pack.gzipped.length,
      objects: pack.objects,
      shardId,
      resource,
    };
  });
}

/** The clusters: the largest holds `objects`, the others a tenth and a hundredth of it. */
export function plannedClusters(backups: number, objects: number): SeededCluster[] {
  const sizes = [
    objects,
    Math.max(1, Math.round(objects / 10)),
    Math.max(1, Math.round(objects / 100)),
  ];
  const names = ['prod', 'staging', 'dev'];
  return names.map((name, i) => ({
    cluster: { project: 'bench-project', location: 'europe-west1', name },
    objects: sizes[i] ?? 1,
    backups: Math.floor(backups / 3) + (i < backups % 3 ? 1 : 0),
  }));
}

/**
 * Writes the store: each cluster's packs once, then its backups' catalogs
 * one after another, oldest first, so that the store's write times follow
 * the backups' as they do in a real store.
 */
export async function seedUiStore(
  store: ObjectStore,
  clusters: SeededCluster[],
  progress: (line: Record<string, unknown>) => void,
): Promise<SeededStore> {
  const policy = validate(
    BackupPolicy,
    { name: 'hourly', projects: ['bench-project'] },
    'the bench policy',
  );
  let catalogs = 0;
  let newest: SeededStore['newest'] | undefined;
  for (const seeded of clusters) {
    const { cluster } = seeded;
    const perKind = Math.ceil(seeded.objects / 2);
    const namespaceOf = (i: number): string => `team-${String(i % NAMESPACES).padStart(3, '0')}`;
    // Listed as the API server lists them: namespace by namespace, names in order.
    const byNamespace = (make: (ns: string, i: number) => KubeObject, n: number): KubeObject[] =>
      Array.from({ length: n }, (_, i) => make(namespaceOf(i), i)).sort((a, b) =>
        objectKey(a) < objectKey(b) ? -1 : 1,
      );
    const configMaps = byNamespace(configMap, perKind);
    const deployments = byNamespace(deployment, seeded.objects - perKind);
    const packs = [
      ...(await writePacks(store, CONFIGMAPS, configMaps)),
      ...(await writePacks(store, DEPLOYMENTS, deployments)),
    ];
    progress({
      event: 'seeding',
      cluster: Layout.clusterKey(cluster),
      packs: packs.length,
      objects: seeded.objects,
    });
    // In a real store a catalog is written when its backup completes, so store times follow
    // backup times, and the cluster list relies on it to stop reading early. Store times cannot
    // be set, so time is compressed instead: each backup starts and completes just before its
    // catalog is written, one after another, oldest first.
    const ids: string[] = [];
    for (let b = 0; b < seeded.backups; b++) {
      const started = new Date();
      const stamp = started.toISOString().replace(/[-:.]/g, '').toLowerCase().slice(0, 18);
      const backupId = `hourly-${stamp}-${String(b).padStart(4, '0')}`;
      const unsigned: UnsignedCatalog = {
        kind: 'Catalog',
        backupId,
        cluster,
        kubernetesVersion: 'v1.33.4-gke.1000',
        // Now and then a backup with a warning, as real stores have.
        phase: b % 97 === 50 ? 'PartiallyFailed' : 'Completed',
        startedAt: started.toISOString(),
        completedAt: new Date().toISOString(),
        counts: {
          objects: seeded.objects,
          packs: packs.length,
          packBytes: packs.reduce((sum, p) => sum + p.bytes, 0),
          volumes: 0,
          secrets: 0,
        },
        resources: [
          { ...CONFIGMAPS, objects: configMaps.length, atRevision: true },
          { ...DEPLOYMENTS, objects: deployments.length, atRevision: true },
        ],
        revision: String(100_000 + b),
        packs,
        volumes: [],
        warnings: b % 97 === 50 ? ['events: the list was cut short by the deadline'] : [],
        errors: [],
        policy,
      };
      await writeCatalog(store, unsigned);
      // A store time may be rounded up to the next millisecond: the next backup starts after it.
      await new Promise((resolve) => setTimeout(resolve, 2));
      ids.push(backupId);
      if (ids.length === seeded.backups || ids.length % 100 === 0) {
        progress({
          event: 'seeding',
          cluster: Layout.clusterKey(cluster),
          catalogs: ids.length,
          of: seeded.backups,
        });
      }
    }
    catalogs += ids.length;
    if (!newest && ids.length > 0) {
      newest = { cluster, backupId: ids.at(-1) ?? '', packs: packs.map((p) => p.digest) };
    }
  }
  if (!newest) throw new Error('the UI bench needs at least one backup');
  return { clusters, newest, catalogs };
}
