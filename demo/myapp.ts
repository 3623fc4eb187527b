import type { KubeHttp } from '../shared/kube/kube-http.js';
import { resourcePath } from '../shared/kube/kube-http.js';

/** The disaster-recovery story's namespace: the hello app, and WordPress on MySQL with persistent disks. */
export const NAMESPACE = 'myapp';
export const PROJECT = 'acme-prod';
export const ZONE = 'europe-west1-b';
export const DISKS = {
  mysql: 'pvc-3ebf86a0-8162-11ea-9370-42010a800047',
  wordpress: 'pvc-4017a2ab-8162-11ea-9370-42010a800047',
};

const core = (resource: string, namespaced = true) => ({
  group: '',
  version: 'v1',
  resource,
  namespaced,
});
const apps = (resource: string) => ({ group: 'apps', version: 'v1', resource, namespaced: true });

function pv(name: string, claim: string): object {
  return {
    metadata: { name, labels: { 'topology.kubernetes.io/zone': ZONE } },
    spec: {
      capacity: { storage: '200Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'standard',
      claimRef: { namespace: NAMESPACE, name: claim },
      csi: {
        driver: 'pd.csi.storage.gke.io',
        volumeHandle: `projects/${PROJECT}/zones/${ZONE}/disks/${name}`,
        fsType: 'ext4',
      },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'topology.gke.io/zone', operator: 'In', values: [ZONE] }] },
          ],
        },
      },
    },
  };
}

function pvc(name: string, volume: string): object {
  return {
    metadata: { name, namespace: NAMESPACE, labels: { app: 'wordpress' } },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'standard',
      volumeName: volume,
      resources: { requests: { storage: '200Gi' } },
    },
  };
}

function deployment(
  name: string,
  labels: Record<string, string>,
  container: object,
  volumes: object[] = [],
): object {
  return {
    metadata: { name, namespace: NAMESPACE, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      strategy: { type: volumes.length ? 'Recreate' : 'RollingUpdate' },
      template: { metadata: { labels }, spec: { containers: [container], volumes } },
    },
  };
}

type ManifestEntry = { ref: ReturnType<typeof core>; body: object };

/**
 * A one-container app labelled app=<name>, its data on the claim
 * <name>-volumeclaim, and its Service (the article's MySQL and WordPress).
 */
function appOnDisk(app: {
  name: string;
  image: string;
  env: object[];
  port: number;
  mountPath: string;
  service: { type: string; ports: object[] };
}): ManifestEntry[] {
  const { name } = app;
  const volume = `${name}-persistent-storage`;
  const labels = { app: name };
  return [
    {
      ref: apps('deployments'),
      body: deployment(
        name,
        labels,
        {
          name,
          image: app.image,
          env: app.env,
          ports: [{ containerPort: app.port, name }],
          volumeMounts: [{ name: volume, mountPath: app.mountPath }],
        },
        [{ name: volume, persistentVolumeClaim: { claimName: `${name}-volumeclaim` } }],
      ),
    },
    {
      ref: core('services'),
      body: {
        metadata: { name, namespace: NAMESPACE, labels },
        spec: { type: app.service.type, selector: labels, ports: app.service.ports },
      },
    },
  ];
}

/** What `kubectl apply` of the article's manifests leaves in the namespace, object by object. */
export function myappObjects(): ManifestEntry[] {
  return [
    { ref: core('namespaces', false), body: { metadata: { name: NAMESPACE } } },
    { ref: core('persistentvolumes', false), body: pv(DISKS.mysql, 'mysql-volumeclaim') },
    { ref: core('persistentvolumes', false), body: pv(DISKS.wordpress, 'wordpress-volumeclaim') },
    { ref: core('persistentvolumeclaims'), body: pvc('mysql-volumeclaim', DISKS.mysql) },
    { ref: core('persistentvolumeclaims'), body: pvc('wordpress-volumeclaim', DISKS.wordpress) },
    {
      ref: core('secrets'),
      body: {
        metadata: { name: 'mysql', namespace: NAMESPACE },
        type: 'Opaque',
        stringData: { password: 'YOUR_PASSWORD' },
      },
    },
    {
      ref: apps('deployments'),
      body: deployment(
        'helloweb',
        { app: 'hello', tier: 'web' },
        {
          name: 'hello-app',
          image: 'us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0',
          ports: [{ containerPort: 8080 }],
        },
      ),
    },
    {
      ref: core('services'),
      body: {
        metadata: { name: 'helloweb-backend', namespace: NAMESPACE, labels: { app: 'hello' } },
        spec: {
          type: 'NodePort',
          selector: { app: 'hello', tier: 'web' },
          ports: [{ port: 8080, targetPort: 8080 }],
        },
      },
    },
    ...appOnDisk({
      name: 'mysql',
      image: 'mysql:5.6',
      env: [
        {
          name: 'MYSQL_ROOT_PASSWORD',
          valueFrom: { secretKeyRef: { name: 'mysql', key: 'password' } },
        },
      ],
      port: 3306,
      mountPath: '/var/lib/mysql',
      service: { type: 'ClusterIP', ports: [{ port: 3306 }] },
    }),
    ...appOnDisk({
      name: 'wordpress',
      image: 'wordpress',
      env: [
        { name: 'WORDPRESS_DB_HOST', value: 'mysql:3306' },
        {
          name: 'WORDPRESS_DB_PASSWORD',
          valueFrom: { secretKeyRef: { name: 'mysql', key: 'password' } },
        },
      ],
      port: 80,
      mountPath: '/var/www/html',
      service: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 80 }] },
    }),
  ];
}

export async function deployMyapp(http: KubeHttp): Promise<void> {
  for (const { ref, body } of myappObjects()) {
    const ns = (body as { metadata: { namespace?: string } }).metadata.namespace;
    await http.request('POST', resourcePath(ref, ns), { body });
  }
}

/** The blog post the article writes through WordPress, as MySQL stores it on its disk. */
export const BLOG_POST = Buffer.from(
  "INSERT INTO wp_posts (post_title, post_content, post_status) VALUES ('Hello from before the disaster', 'This post was written before the production cluster was deleted.', 'publish');\n",
);
