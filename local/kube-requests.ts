import { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, resourcePath, KubeHttp } from '../shared/kube/kube-http.js';
import type { KubeObject } from '../shared/kube/sanitize.js';
import { required } from './settings.js';

export function kubeHttp(which: 'source' | 'target'): KubeHttp {
  const kc = new KubeConfig();
  kc.loadFromFile(
    required(which === 'source' ? 'LIFEBOAT_SOURCE_KUBECONFIG' : 'LIFEBOAT_TARGET_KUBECONFIG'),
  );
  return new KubeHttp(kc);
}

export interface Ref {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

export const R = {
  namespaces: { group: '', version: 'v1', resource: 'namespaces', namespaced: false },
  configmaps: { group: '', version: 'v1', resource: 'configmaps', namespaced: true },
  secrets: { group: '', version: 'v1', resource: 'secrets', namespaced: true },
  services: { group: '', version: 'v1', resource: 'services', namespaced: true },
  serviceaccounts: { group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true },
  pods: { group: '', version: 'v1', resource: 'pods', namespaced: true },
  pvs: { group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false },
  pvcs: { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true },
  statefulsets: { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true },
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', namespaced: true },
  rolebindings: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'rolebindings',
    namespaced: true,
  },
  clusterroles: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
    namespaced: false,
  },
  crds: {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    namespaced: false,
  },
  widgets: { group: 'example.lifeboat.dev', version: 'v1', resource: 'widgets', namespaced: true },
} satisfies Record<string, Ref>;

export async function create(http: KubeHttp, ref: Ref, obj: object): Promise<KubeObject> {
  const o = obj as KubeObject;
  return http.request<KubeObject>('POST', resourcePath(ref, o.metadata.namespace), { body: obj });
}

export async function get(
  http: KubeHttp,
  ref: Ref,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    return await http.request<KubeObject>('GET', resourcePath(ref, namespace, name));
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  }
}

export async function list(http: KubeHttp, ref: Ref, namespace?: string): Promise<KubeObject[]> {
  return (await http.request<{ items: KubeObject[] }>('GET', resourcePath(ref, namespace))).items;
}

/** Creates an object, or leaves the existing one (cluster-wide fixtures shared by tests). */
export async function ensure(http: KubeHttp, ref: Ref, obj: object): Promise<void> {
  try {
    await create(http, ref, obj);
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error;
  }
}

/**
 * Waits until the controllers have furnished a new namespace with what they
 * add to every namespace (its `default` ServiceAccount and the
 * `kube-root-ca.crt` ConfigMap), so two backups of it taken a moment apart
 * see the same objects. Nothing is added without controllers.
 */
export async function waitFurnished(http: KubeHttp, namespace: string): Promise<void> {
  if (process.env['LIFEBOAT_CONTROLLERS'] === 'off') return;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [account, rootCa] = await Promise.all([
      get(http, R.serviceaccounts, namespace, 'default'),
      get(http, R.configmaps, namespace, 'kube-root-ca.crt'),
    ]);
    if (account && rootCa) return;
    if (Date.now() > deadline) {
      throw new Error(
        `namespace ${namespace} has no ${account ? 'kube-root-ca.crt' : 'default ServiceAccount'} after 60 s`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Waits until the PV controller has bound a pre-bound PV and its claim, so
 * a backup taken next sees them as they stay: binding annotates the claim
 * and completes the PV's claimRef, and a backup racing it holds a state
 * that changes a moment later. Nothing binds without controllers.
 */
export async function waitBound(
  http: KubeHttp,
  pv: string,
  namespace: string,
  claim: string,
): Promise<void> {
  if (process.env['LIFEBOAT_CONTROLLERS'] === 'off') return;
  const phase = (o: KubeObject | undefined): string | undefined =>
    (o?.['status'] as { phase?: string } | undefined)?.phase;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [volume, claimed] = await Promise.all([
      get(http, R.pvs, undefined, pv),
      get(http, R.pvcs, namespace, claim),
    ]);
    if (phase(volume) === 'Bound' && phase(claimed) === 'Bound') return;
    if (Date.now() > deadline) {
      throw new Error(
        `PV ${pv} and claim ${namespace}/${claim} not Bound after 60 s (PV ${phase(volume)}, claim ${phase(claimed)})`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
