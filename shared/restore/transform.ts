import jsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { RestoreOptions, TransformationRule } from '../messages/restore.js';
import { qualifiedName } from '../kube/discovery.js';
import { matchesAny } from '../glob.js';
import type { ObjectRef } from '../catalog/pack.js';
import type { KubeObject } from '../kube/sanitize.js';

function ruleMatches(rule: TransformationRule, ref: ObjectRef, obj: KubeObject): boolean {
  const resourceOk =
    matchesAny(rule.resources, qualifiedName(ref)) || matchesAny(rule.resources, ref.resource);
  const ns = obj.metadata.namespace;
  const nsOk = ns === undefined ? rule.namespaces.includes('*') : matchesAny(rule.namespaces, ns);
  return resourceOk && nsOk && matchesAny(rule.names, obj.metadata.name);
}

/** Applies every matching JSON-patch rule in order; a failing patch explains which rule and why. */
export function applyTransformations(
  rules: RestoreOptions['transformations'],
  ref: ObjectRef,
  obj: KubeObject,
): KubeObject {
  let current = obj;
  rules.forEach((rule, index) => {
    if (!ruleMatches(rule, ref, current)) return;
    try {
      current = jsonPatch.applyPatch(current, rule.patch as Operation[], true, false).newDocument;
    } catch (error) {
      const label = rule.description ? `"${rule.description}"` : `#${index + 1}`;
      throw new Error(
        `transformation ${label} failed: ${(error as Error).message.split('\n')[0]}`,
        { cause: error },
      );
    }
  });
  return current;
}

/** Moves an object to its mapped namespace, with the references that name namespaces. */
export function mapNamespaces(obj: KubeObject, mapping: Record<string, string>): KubeObject {
  const mapped = (ns: string | undefined): string | undefined =>
    ns !== undefined ? (mapping[ns] ?? ns) : ns;
  if (obj.metadata.namespace !== undefined) obj.metadata.namespace = mapped(obj.metadata.namespace);
  if (obj.kind === 'Namespace') obj.metadata.name = mapped(obj.metadata.name) ?? obj.metadata.name;
  if (obj.kind === 'PersistentVolume') {
    const claimRef = (obj['spec'] as { claimRef?: { namespace?: string } } | undefined)?.claimRef;
    if (claimRef?.namespace) claimRef.namespace = mapped(claimRef.namespace);
  }
  if (obj.kind === 'RoleBinding' || obj.kind === 'ClusterRoleBinding') {
    for (const s of (obj['subjects'] as { kind: string; namespace?: string }[] | undefined) ?? []) {
      if (s.kind === 'ServiceAccount' && s.namespace) s.namespace = mapped(s.namespace);
    }
  }
  return obj;
}
