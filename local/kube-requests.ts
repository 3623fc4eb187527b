import { KubeConfig } from '@kubernetes/client-node';
import { getOrUndefined, KubeApiError, resourcePath, KubeHttp } from '../shared/kube/kube-http.js';
import type { KubeObject } from '../shared/kube/sanitize.js';
import { required } from './settings.js';

/** Raw HTTP to the source or target cluster of the local environment. */
export function kubeHttp(which: 'source' | 'target'): KubeHttp {
  return kubeHttpOf(
    required(which === 'source' ? 'LIFEBOAT_SOURCE_KUBECONFIG' : 'LIFEBOAT_TARGET_KUBECONFIG'),
  );
}

/** Raw HTTP to the cluster of a kubeconfig file's current context. */
export function kubeHttpOf(kubeconfig: string): KubeHttp {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return new KubeHttp(kc);
}

export interface Ref {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

/** A v1 resource of `group` ('' for the core group). */
const v1 = (group: string, resource: string, namespaced: boolean): Ref => ({
  group,
  version: 'v1',
  resource,
  namespaced,
});
const RBAC = 'rbac.authorization.k8s.io';

export const R = {
  namespaces: v1('', 'namespaces', false),
  configmaps: v1('', 'configmaps', true),
  secrets: v1('', 'secrets', true),
  services: v1('', 'services', true),
  serviceaccounts: v1('', 'serviceaccounts', true),
  pods: v1('', 'pods', true),
  pvs: v1('', 'persistentvolumes', false),
  pvcs: v1('', 'persistentvolumeclaims', true),
  deployments: v1('apps', 'deployments', true),
  replicasets: v1('apps', 'replicasets', true),
  statefulsets: v1('apps', 'statefulsets', true),
  roles: v1(RBAC, 'roles', true),
  rolebindings: v1(RBAC, 'rolebindings', true),
  clusterroles: v1(RBAC, 'clusterroles', false),
  crds: v1('apiextensions.k8s.io', 'customresourcedefinitions', false),
  widgets: v1('example.lifeboat.dev', 'widgets', true),
};

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
  return getOrUndefined<KubeObject>(http, resourcePath(ref, namespace, name));
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
