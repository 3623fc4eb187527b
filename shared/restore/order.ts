import type { ObjectRef } from '../catalog/pack.js';
import { qualifiedName } from '../kube/discovery.js';

/**
 * Restore waves, applied one after another; objects within a wave go in
 * parallel. CRDs come first (and are waited on until established), then
 * what other objects live in or refer to.
 */
const WAVES: string[][] = [
  ['customresourcedefinitions.apiextensions.k8s.io'],
  ['namespaces'],
  [
    'storageclasses.storage.k8s.io',
    'volumesnapshotclasses.snapshot.storage.k8s.io',
    'priorityclasses.scheduling.k8s.io',
    // Well before Secrets: the token controller deletes a token Secret whose account it has not seen.
    'serviceaccounts',
  ],
  ['persistentvolumes'],
  ['persistentvolumeclaims'],
  ['secrets', 'configmaps', 'limitranges', 'resourcequotas'],
  ['clusterroles.rbac.authorization.k8s.io', 'roles.rbac.authorization.k8s.io'],
  ['clusterrolebindings.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io'],
  ['services'],
];
const BUILTIN_LAST = WAVES.length; // workloads and every other built-in resource
const CUSTOM = WAVES.length + 1; // custom resources, once their CRDs serve
const OWNED = WAVES.length + 2; // objects that point at an owner restored before them

/**
 * Last of all: what intercepts requests to the API server. A webhook whose
 * service does not run yet (mid-restore it never does) refuses every object
 * it matches under failurePolicy Fail, and an APIService without its
 * server makes its group unavailable; restored after everything else, they
 * cannot block the restore's own objects.
 */
const INTERCEPTORS = new Set([
  'validatingwebhookconfigurations.admissionregistration.k8s.io',
  'mutatingwebhookconfigurations.admissionregistration.k8s.io',
  'validatingadmissionpolicies.admissionregistration.k8s.io',
  'validatingadmissionpolicybindings.admissionregistration.k8s.io',
  'mutatingadmissionpolicies.admissionregistration.k8s.io',
  'mutatingadmissionpolicybindings.admissionregistration.k8s.io',
  'apiservices.apiregistration.k8s.io',
]);
const INTERCEPT = WAVES.length + 3;

const BUILTIN_GROUP = /(^$|\.k8s\.io$|^apps$|^batch$|^policy$|^autoscaling$)/;

export function waveOf(
  ref: ObjectRef,
  hasOwners: boolean,
  customGroups: ReadonlySet<string>,
): number {
  const name = qualifiedName(ref);
  if (INTERCEPTORS.has(name)) return INTERCEPT;
  if (hasOwners) return OWNED;
  const index = WAVES.findIndex((w) => w.includes(name));
  if (index >= 0) return index;
  if (customGroups.has(ref.group) || !BUILTIN_GROUP.test(ref.group)) return CUSTOM;
  return BUILTIN_LAST;
}

export const CRD_WAVE = 0;
