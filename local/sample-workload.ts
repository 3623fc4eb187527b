import type { KubeHttp } from '../shared/kube/kube-http.js';
import { waitEstablished } from '../shared/restore/apply-object.js';
import { create, ensure, R, waitBound } from './kube-requests.js';
import { pdCsiVolume } from './pd-volume.js';

export const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.lifeboat.dev' },
  spec: {
    group: 'example.lifeboat.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { size: { type: 'integer' }, color: { type: 'string' } },
              },
            },
          },
        },
      },
    ],
  },
};

const labels = { app: 'web' };
const podSpec = {
  containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }],
};

/**
 * A varied workload in one namespace: a CRD with custom resources,
 * Deployments (with a controller-owned ReplicaSet and Pod), a StatefulSet
 * with claim templates, Services of each kind, Secrets of several types,
 * ConfigMaps, RBAC, a PV bound to a PVC, finalizers and generateName.
 * Returns the names of cluster-scoped objects it made.
 */
export async function seedWorkload(
  http: KubeHttp,
  ns: string,
): Promise<{ pv: string; clusterRole: string }> {
  await ensure(http, R.crds, WIDGET_CRD);
  await waitEstablished(http, WIDGET_CRD.metadata.name);
  await create(http, R.namespaces, { metadata: { name: ns, labels: { team: 'shop' } } });
  const m = (name: string, extra: object = {}): object => ({ name, namespace: ns, ...extra });
  const deployment = await create(http, R.deployments, {
    metadata: m('web', { labels }),
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec },
    },
  });
  const rs = await create(http, R.replicasets, {
    metadata: m('web-5d8f', {
      labels,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          uid: deployment.metadata['uid'],
          controller: true,
        },
      ],
    }),
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec },
    },
  });
  await create(http, R.pods, {
    metadata: m('web-5d8f-abcde', {
      labels,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-5d8f',
          uid: rs.metadata['uid'],
          controller: true,
        },
      ],
    }),
    spec: podSpec,
  });
  await create(http, R.statefulsets, {
    metadata: m('db'),
    spec: {
      serviceName: 'db',
      replicas: 1,
      selector: { matchLabels: { app: 'db' } },
      template: {
        metadata: { labels: { app: 'db' } },
        spec: { containers: [{ name: 'mysql', image: 'mysql:8.4' }] },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    },
  });
  await create(http, R.services, {
    metadata: m('web'),
    spec: { selector: labels, ports: [{ port: 80, targetPort: 80 }] },
  });
  await create(http, R.services, {
    metadata: m('db'),
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 3306 }] },
  });
  await create(http, R.services, {
    metadata: m('web-nodeport'),
    spec: { type: 'NodePort', selector: labels, ports: [{ port: 80 }] },
  });
  await create(http, R.secrets, {
    metadata: m('opaque'),
    type: 'Opaque',
    stringData: { password: 's3cr3t-value' },
  });
  await create(http, R.secrets, {
    metadata: m('tls'),
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from('cert').toString('base64'),
      'tls.key': Buffer.from('key').toString('base64'),
    },
  });
  await create(http, R.secrets, {
    metadata: m('registry'),
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') },
  });
  await create(http, R.secrets, {
    metadata: m('basic'),
    type: 'kubernetes.io/basic-auth',
    stringData: { username: 'u', password: 'p' },
  });
  await create(http, R.configmaps, {
    metadata: m('settings'),
    data: { color: 'blue', 'app.yaml': 'a: 1\n' },
  });
  await create(http, R.configmaps, {
    metadata: m('guarded', { finalizers: ['example.lifeboat.dev/keep'] }),
    data: { k: 'v' },
  });
  await create(http, R.configmaps, {
    metadata: { generateName: 'generated-', namespace: ns },
    data: { made: 'by generateName' },
  });
  await create(http, R.configmaps, {
    metadata: m('ignored', { labels: { 'lifeboat.dev/exclude-from-backup': 'true' } }),
    data: {},
  });
  await create(http, R.serviceaccounts, { metadata: m('deployer') });
  await create(http, R.roles, {
    metadata: m('reader'),
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
  });
  await create(
    http,
    {
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'rolebindings',
      namespaced: true,
    },
    {
      metadata: m('deployer-reads'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns }],
    },
  );
  const clusterRole = `${ns}-viewer`;
  await create(http, R.clusterroles, {
    metadata: { name: clusterRole },
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }],
  });
  const pv = `${ns}-pv`;
  await create(
    http,
    R.pvs,
    pdCsiVolume(pv, {
      volumeHandle: `projects/acme/zones/europe-west1-b/disks/${pv}`,
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: 'uploads' },
    }),
  );
  await create(http, R.pvcs, {
    metadata: m('uploads'),
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'standard',
      volumeName: pv,
      resources: { requests: { storage: '5Gi' } },
    },
  });
  await waitBound(http, pv, ns, 'uploads');
  await create(http, R.widgets, {
    apiVersion: 'example.lifeboat.dev/v1',
    kind: 'Widget',
    metadata: m('blue-widget'),
    spec: { size: 3, color: 'blue' },
  });
  await create(http, R.widgets, {
    apiVersion: 'example.lifeboat.dev/v1',
    kind: 'Widget',
    metadata: m('red-widget'),
    spec: { size: 5, color: 'red' },
  });
  return { pv, clusterRole };
}
