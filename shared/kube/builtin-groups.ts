/**
 * API groups the Kubernetes API server serves itself (and metrics.k8s.io,
 * the metrics server's). A group outside this list is served by a CRD or
 * an aggregated server: its objects are custom resources. A name is not
 * enough: CRDs may live in *.k8s.io groups (gateway.networking.k8s.io,
 * snapshot.storage.k8s.io).
 */
const BUILTIN_GROUPS: ReadonlySet<string> = new Set([
  '',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'apps',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'metrics.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
]);

/** Whether objects of this group are the API server's own (not custom resources). */
export function isBuiltinGroup(group: string): boolean {
  return BUILTIN_GROUPS.has(group);
}
