import type { KubeObject } from './sanitize.js';

/** Resources whose objects the target cluster's controllers or API server create by themselves. */
const MANAGED_RESOURCES = new Set([
  'endpoints',
  'endpointslices.discovery.k8s.io',
  'events',
  'events.events.k8s.io',
  'controllerrevisions.apps',
  // Leader-election locks: a restored holder names a pod of the source and only delays election.
  'leases.coordination.k8s.io',
]);

/** Why restore leaves an object to the target cluster by default, or undefined to restore it. */
export function managedReason(obj: KubeObject, qualifiedResource: string): string | undefined {
  if (MANAGED_RESOURCES.has(qualifiedResource))
    return `${qualifiedResource} are maintained by controllers`;
  const controller = obj.metadata.ownerReferences?.find((o) => o.controller);
  if (controller)
    return `owned by ${controller.kind} ${controller.name}, whose controller recreates it`;
  const { name, namespace } = obj.metadata;
  if (obj.kind === 'ConfigMap' && name === 'kube-root-ca.crt')
    return 'published by the target cluster itself';
  if (obj.kind === 'ServiceAccount' && name === 'default' && isBareServiceAccount(obj))
    return 'made by the target cluster in every namespace (this one carries nothing of its own)';
  if (obj.kind === 'Service' && namespace === 'default' && name === 'kubernetes')
    return 'the API server’s own Service';
  if (
    obj.kind === 'Namespace' &&
    ['default', 'kube-system', 'kube-public', 'kube-node-lease'].includes(name)
  ) {
    return 'exists in every cluster';
  }
  if (
    (obj.kind === 'ClusterRole' ||
      obj.kind === 'ClusterRoleBinding' ||
      obj.kind === 'Role' ||
      obj.kind === 'RoleBinding') &&
    (name.startsWith('system:') ||
      obj.metadata.labels?.['kubernetes.io/bootstrapping'] === 'rbac-defaults')
  ) {
    return 'bootstrapped by the target API server';
  }
  if (
    obj.kind === 'APIService' &&
    obj.metadata.labels?.['kube-aggregator.kubernetes.io/automanaged']
  ) {
    return 'managed by the API aggregator';
  }
  if (
    (obj.kind === 'FlowSchema' || obj.kind === 'PriorityLevelConfiguration') &&
    obj.metadata.annotations?.['apf.kubernetes.io/autoupdate-spec'] === 'true'
  ) {
    return 'maintained by the target API server';
  }
  return undefined;
}

/**
 * A ServiceAccount as the service-account controller makes it: no image pull
 * secrets, no token mount setting, no labels or annotations. Restoring it
 * would only race the target's controller, which makes the same one.
 */
function isBareServiceAccount(obj: KubeObject): boolean {
  const sa = obj as KubeObject & {
    imagePullSecrets?: unknown[];
    automountServiceAccountToken?: boolean;
  };
  return (
    (sa.imagePullSecrets?.length ?? 0) === 0 &&
    sa.automountServiceAccountToken === undefined &&
    Object.keys(obj.metadata.labels ?? {}).length === 0 &&
    Object.keys(obj.metadata.annotations ?? {}).length === 0
  );
}
