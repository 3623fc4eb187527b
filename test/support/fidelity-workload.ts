import { resourcePath, type KubeHttp } from '../../shared/kube/kube-http.js';
import type { KubeObject } from '../../shared/kube/sanitize.js';
import { waitEstablished } from '../../shared/restore/apply-object.js';
import { create, R, waitBound, type Ref } from '../../local/kube-requests.js';

const ref = (group: string, version: string, resource: string, namespaced: boolean): Ref => ({
  group,
  version,
  resource,
  namespaced,
});

export const F = {
  ...R,
  jobs: ref('batch', 'v1', 'jobs', true),
  cronjobs: ref('batch', 'v1', 'cronjobs', true),
  hpas: ref('autoscaling', 'v2', 'horizontalpodautoscalers', true),
  pdbs: ref('policy', 'v1', 'poddisruptionbudgets', true),
  networkpolicies: ref('networking.k8s.io', 'v1', 'networkpolicies', true),
  ingresses: ref('networking.k8s.io', 'v1', 'ingresses', true),
  ingressclasses: ref('networking.k8s.io', 'v1', 'ingressclasses', false),
  resourcequotas: ref('', 'v1', 'resourcequotas', true),
  limitranges: ref('', 'v1', 'limitranges', true),
  priorityclasses: ref('scheduling.k8s.io', 'v1', 'priorityclasses', false),
  storageclasses: ref('storage.k8s.io', 'v1', 'storageclasses', false),
  clusterrolebindings: ref('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', false),
  webhooks: ref('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', false),
  apiservices: ref('apiregistration.k8s.io', 'v1', 'apiservices', false),
};

/** One seeded object: where it lives and what it is called, to compare across clusters. */
export interface Seeded {
  ref: Ref;
  namespace?: string;
  name: string;
}

/** The names a fidelity workload uses: unique per run, so the target starts without them. */
export interface FidelityNames {
  ns: string;
  /** Suffix of cluster-scoped names and API groups. */
  id: string;
  /** Group of the CRD served at v1 and v2 in both clusters. */
  gizmoGroup: string;
  /** Group of the CRD the source serves at v1 and the target, pre-installed, only at v2. */
  sprocketGroup: string;
  /** Label on every seeded object: the backup's label selector. */
  runLabel: Record<string, string>;
}

export function fidelityNames(ns: string, id: string): FidelityNames {
  return {
    ns,
    id,
    gizmoGroup: `gizmos-${id}.lifeboat.dev`,
    sprocketGroup: `sprockets-${id}.lifeboat.dev`,
    runLabel: { 'fidelity.lifeboat.dev/run': id },
  };
}

const statusSchema = {
  type: 'object',
  properties: {
    spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

function crdVersion(name: string, served: boolean, storage: boolean): object {
  return {
    name,
    served,
    storage,
    subresources: { status: {} },
    schema: { openAPIV3Schema: statusSchema },
  };
}

/** A CRD with a status subresource at every version and conversion strategy None. */
export function crd(
  group: string,
  plural: string,
  kind: string,
  scope: 'Namespaced' | 'Cluster',
  versions: { name: string; served: boolean; storage: boolean }[],
  labels: Record<string, string>,
): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, labels },
    spec: {
      group,
      scope,
      names: { plural, singular: plural.replace(/s$/, ''), kind, listKind: `${kind}List` },
      conversion: { strategy: 'None' },
      versions: versions.map((v) => crdVersion(v.name, v.served, v.storage)),
    },
  };
}

/** The sprocket CRD a newer target already has: v1 no longer served, v2 is. */
export function newerSprocketCrd(n: FidelityNames): KubeObject {
  return crd(
    n.sprocketGroup,
    'sprockets',
    'Sprocket',
    'Namespaced',
    [
      { name: 'v1', served: false, storage: false },
      { name: 'v2', served: true, storage: true },
    ],
    n.runLabel,
  );
}

/**
 * The crank CRD a newer target already has: v2 only, converting through a
 * webhook (whose service is absent), so nothing can be restored at v2
 * without that server.
 */
export function newerCrankCrd(n: FidelityNames): KubeObject {
  const c = crd(
    n.sprocketGroup,
    'cranks',
    'Crank',
    'Namespaced',
    [
      { name: 'v1', served: false, storage: false },
      { name: 'v2', served: true, storage: true },
    ],
    n.runLabel,
  );
  (c['spec'] as Record<string, unknown>)['conversion'] = {
    strategy: 'Webhook',
    webhook: {
      conversionReviewVersions: ['v1'],
      clientConfig: { service: { namespace: 'default', name: 'absent-converter', port: 443 } },
    },
  };
  return c;
}

/**
 * Seeds the workload issue #15 lists, every object labelled with the run
 * label, and returns what it created (objects controllers make from them,
 * ReplicaSets and Pods, are not listed: restore leaves them to controllers).
 */
export async function seedFidelityWorkload(http: KubeHttp, n: FidelityNames): Promise<Seeded[]> {
  const { ns, id, runLabel } = n;
  const seeded: Seeded[] = [];
  const add = async (r: Ref, obj: Record<string, unknown>): Promise<KubeObject> => {
    const o = obj as unknown as KubeObject;
    o.metadata.labels = { ...o.metadata.labels, ...runLabel };
    if (r.namespaced) o.metadata.namespace = ns;
    const made = await create(http, r, o);
    seeded.push({
      ref: r,
      ...(r.namespaced ? { namespace: ns } : {}),
      name: made.metadata.name,
    });
    return made;
  };
  const withStatus = async (r: Ref, made: KubeObject, status: object): Promise<void> => {
    const path = `${resourcePath(r, made.metadata.namespace, made.metadata.name)}/status`;
    await http.request('PUT', path, { body: { ...made, status } });
  };
  // As kubectl apply leaves it: the next apply's three-way merge reads it.
  const applied = (obj: object): Record<string, string> => ({
    'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(obj),
  });

  const gizmoCrd = crd(
    n.gizmoGroup,
    'gizmos',
    'Gizmo',
    'Namespaced',
    [
      { name: 'v1', served: true, storage: true },
      { name: 'v2', served: true, storage: false },
    ],
    runLabel,
  );
  const realmCrd = crd(
    n.gizmoGroup,
    'realms',
    'Realm',
    'Cluster',
    [{ name: 'v1', served: true, storage: true }],
    runLabel,
  );
  const sprocketCrd = crd(
    n.sprocketGroup,
    'sprockets',
    'Sprocket',
    'Namespaced',
    [{ name: 'v1', served: true, storage: true }],
    runLabel,
  );
  const crankCrd = crd(
    n.sprocketGroup,
    'cranks',
    'Crank',
    'Namespaced',
    [{ name: 'v1', served: true, storage: true }],
    runLabel,
  );
  for (const c of [gizmoCrd, realmCrd, sprocketCrd, crankCrd]) {
    await add(F.crds, c as unknown as Record<string, unknown>);
    await waitEstablished(http, c.metadata.name);
  }

  await add(F.namespaces, {
    metadata: { name: ns, labels: { 'fidelity.lifeboat.dev/webhook': id } },
  });
  const app = { app: 'web' };
  const podSpec = { containers: [{ name: 'web', image: 'nginx:1.27' }] };
  const deploymentSpec = {
    replicas: 2,
    selector: { matchLabels: app },
    template: { metadata: { labels: app }, spec: podSpec },
  };
  await add(F.deployments, {
    metadata: {
      name: 'web',
      annotations: applied({ metadata: { name: 'web' }, spec: deploymentSpec }),
    },
    spec: deploymentSpec,
  });
  await add(F.deployments, {
    metadata: { name: 'worker' },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { app: 'worker' } },
      template: { metadata: { labels: { app: 'worker' } }, spec: podSpec },
    },
  });
  await add(F.services, {
    metadata: { name: 'db-headless' },
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] },
  });
  await add(F.statefulsets, {
    metadata: { name: 'db' },
    spec: {
      serviceName: 'db-headless',
      replicas: 1,
      selector: { matchLabels: { app: 'db' } },
      template: {
        metadata: { labels: { app: 'db' } },
        spec: {
          containers: [
            {
              name: 'db',
              image: 'postgres:16',
              volumeMounts: [{ name: 'pgdata', mountPath: '/var/lib/postgresql' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'pgdata' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    },
  });
  const jobTemplate = {
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
  await add(F.cronjobs, {
    metadata: { name: 'nightly' },
    spec: { schedule: '0 3 * * *', jobTemplate },
  });
  await add(F.jobs, { metadata: { name: 'once' }, spec: jobTemplate.spec });

  await add(F.services, {
    metadata: { name: 'web' },
    spec: { selector: app, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
  const nodePortSpec = {
    type: 'NodePort',
    selector: app,
    ports: [{ name: 'http', port: 80, nodePort: 30777 }],
  };
  await add(F.services, {
    metadata: { name: 'pinned', annotations: applied({ spec: nodePortSpec }) },
    spec: nodePortSpec,
  });
  await add(F.services, {
    metadata: { name: 'lb' },
    spec: { type: 'LoadBalancer', selector: app, ports: [{ port: 443 }] },
  });
  await add(F.services, {
    metadata: { name: 'upstream' },
    spec: { type: 'ExternalName', externalName: 'example.com' },
  });

  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  await add(F.serviceaccounts, { metadata: { name: 'builder' } });
  await add(F.secrets, {
    metadata: { name: 'opaque' },
    type: 'Opaque',
    data: { password: b64('s3cr3t') },
  });
  await add(F.secrets, {
    metadata: { name: 'tls' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64('cert'), 'tls.key': b64('key') },
  });
  await add(F.secrets, {
    metadata: { name: 'registry' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64('{"auths":{}}') },
  });
  await add(F.secrets, {
    metadata: { name: 'basic' },
    type: 'kubernetes.io/basic-auth',
    stringData: { username: 'u', password: 'p' },
  });
  await add(F.secrets, {
    metadata: {
      name: 'builder-token',
      annotations: { 'kubernetes.io/service-account.name': 'builder' },
    },
    type: 'kubernetes.io/service-account-token',
  });

  await add(F.configmaps, {
    metadata: { name: 'settings', annotations: applied({ data: { mode: 'fast' } }) },
    data: { mode: 'fast' },
    binaryData: { 'blob.bin': Buffer.from([0, 1, 2, 254, 255]).toString('base64') },
  });
  // Near the API server's 1 MiB limit on a ConfigMap's data.
  await add(F.configmaps, {
    metadata: { name: 'big' },
    data: { payload: 'x'.repeat(1024 * 1024 - 4096) },
  });
  await add(F.configmaps, {
    metadata: { name: 'guarded', finalizers: ['example.lifeboat.dev/keep'] },
    data: { k: 'v' },
  });
  await add(F.configmaps, { metadata: { name: '', generateName: 'generated-' }, data: {} });

  await add(F.roles, {
    metadata: { name: 'reader' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
  });
  await add(F.rolebindings, {
    metadata: { name: 'reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'builder', namespace: ns }],
  });
  const aggregate = { [`fidelity.lifeboat.dev/aggregate-${id}`]: 'true' };
  await add(F.clusterroles, {
    metadata: { name: `piece-${id}`, labels: aggregate },
    rules: [{ apiGroups: [n.gizmoGroup], resources: ['gizmos'], verbs: ['get'] }],
  });
  await add(F.clusterroles, {
    metadata: { name: `aggregated-${id}` },
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: aggregate }] },
    rules: [{ apiGroups: [n.gizmoGroup], resources: ['gizmos'], verbs: ['get'] }],
  });
  await add(F.clusterrolebindings, {
    metadata: { name: `aggregated-${id}` },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: `aggregated-${id}`,
    },
    subjects: [{ kind: 'ServiceAccount', name: 'builder', namespace: ns }],
  });

  await add(F.hpas, {
    metadata: { name: 'web' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    },
  });
  await add(F.pdbs, {
    metadata: { name: 'web' },
    spec: { minAvailable: 1, selector: { matchLabels: app } },
  });
  await add(F.networkpolicies, {
    metadata: { name: 'web-only' },
    spec: {
      podSelector: { matchLabels: app },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }],
    },
  });
  await add(F.ingressclasses, {
    metadata: { name: `fidelity-${id}` },
    spec: { controller: 'example.lifeboat.dev/ingress' },
  });
  await add(F.ingresses, {
    metadata: { name: 'web' },
    spec: {
      ingressClassName: `fidelity-${id}`,
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'web', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  });
  await add(F.resourcequotas, { metadata: { name: 'quota' }, spec: { hard: { pods: '50' } } });
  await add(F.limitranges, {
    metadata: { name: 'limits' },
    spec: { limits: [{ type: 'Container', default: { cpu: '500m' } }] },
  });
  await add(F.priorityclasses, {
    metadata: { name: `important-${id}` },
    value: 1000,
    description: 'fidelity test',
  });
  await add(F.storageclasses, {
    metadata: { name: `manual-${id}` },
    provisioner: 'kubernetes.io/no-provisioner',
    volumeBindingMode: 'Immediate',
  });
  await add(F.pvs, {
    metadata: { name: `pv-${id}` },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: `manual-${id}`,
      hostPath: { path: `/tmp/fidelity-${id}` },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: 'data' },
    },
  });
  await add(F.pvcs, {
    metadata: { name: 'data' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: `manual-${id}`,
      volumeName: `pv-${id}`,
      resources: { requests: { storage: '1Gi' } },
    },
  });
  await waitBound(http, `pv-${id}`, ns, 'data');

  const gizmos = ref(n.gizmoGroup, 'v1', 'gizmos', true);
  const realms = ref(n.gizmoGroup, 'v1', 'realms', false);
  const sprockets = ref(n.sprocketGroup, 'v1', 'sprockets', true);
  const gizmo = await add(gizmos, {
    apiVersion: `${n.gizmoGroup}/v1`,
    kind: 'Gizmo',
    metadata: { name: 'alpha' },
    spec: { size: 3 },
  });
  await withStatus(gizmos, gizmo, { phase: 'Ready', observedGeneration: 1, shards: [1, 2] });
  const realm = await add(realms, {
    apiVersion: `${n.gizmoGroup}/v1`,
    kind: 'Realm',
    metadata: { name: `realm-${id}` },
    spec: { region: 'eu' },
  });
  await withStatus(realms, realm, { conditions: [{ type: 'Ready', status: 'True' }] });
  const sprocket = await add(sprockets, {
    apiVersion: `${n.sprocketGroup}/v1`,
    kind: 'Sprocket',
    metadata: { name: 'cog' },
    spec: { teeth: 12 },
  });
  await withStatus(sprockets, sprocket, { turning: true });
  await add(ref(n.sprocketGroup, 'v1', 'cranks', true), {
    apiVersion: `${n.sprocketGroup}/v1`,
    kind: 'Crank',
    metadata: { name: 'handle' },
    spec: { length: 4 },
  });
  const owner = (o: KubeObject): object => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.metadata.name,
    uid: o.metadata['uid'],
  });
  // Owned without being controlled: restore brings them back and re-points the owner's uid.
  await add(F.configmaps, {
    metadata: { name: 'gizmo-config', ownerReferences: [owner(gizmo)] },
    data: { owner: 'gizmo' },
  });
  await add(F.secrets, {
    metadata: { name: 'realm-credentials', ownerReferences: [owner(realm)] },
    data: { key: b64('k') },
  });
  await add(F.configmaps, {
    metadata: { name: 'sprocket-config', ownerReferences: [owner(sprocket)] },
    data: { owner: 'sprocket' },
  });

  // Last in the source, so it blocks nothing there: a webhook whose service does not exist.
  await add(F.webhooks, {
    metadata: { name: `deny-${id}` },
    webhooks: [
      {
        name: `deny.${id}.lifeboat.dev`,
        failurePolicy: 'Fail',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        namespaceSelector: { matchLabels: { 'fidelity.lifeboat.dev/webhook': id } },
        rules: [
          {
            apiGroups: ['', n.gizmoGroup],
            apiVersions: ['*'],
            operations: ['CREATE'],
            resources: ['configmaps', 'secrets', 'gizmos'],
          },
        ],
        clientConfig: { service: { namespace: ns, name: 'absent-webhook', port: 443 } },
      },
    ],
  });
  await add(F.apiservices, {
    metadata: { name: `v1alpha1.unavailable-${id}.lifeboat.dev` },
    spec: {
      group: `unavailable-${id}.lifeboat.dev`,
      version: 'v1alpha1',
      groupPriorityMinimum: 1000,
      versionPriority: 15,
      insecureSkipTLSVerify: true,
      service: { namespace: ns, name: 'absent-api', port: 443 },
    },
  });
  return seeded;
}
