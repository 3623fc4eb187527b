import { isDeepStrictEqual } from 'node:util';
import { isBuiltinGroup } from '../kube/builtin-groups.js';
import { sanitize, type KubeObject } from '../kube/sanitize.js';
import { RESTORE_LABEL } from '../restore/apply-object.js';

/**
 * The form a restored object is compared with its catalog record in:
 * sanitised as a backup stores it (kind rules name what the drill cluster
 * assigns afresh), a custom resource's status kept (the restore puts it
 * back), our restore label and owner uids (new in every cluster) left out.
 * A Namespace's kubernetes.io/metadata.name label (its name, which the
 * drill changes) is left out, and a claim's volumeName: its volume is checked on its own
 * (bound to the disk restored from its snapshot).
 */
export function comparableForDrill(obj: KubeObject, group: string): KubeObject {
  const s = sanitize(obj, { keepStatus: !isBuiltinGroup(group) });
  if (s.metadata.labels) {
    delete s.metadata.labels[RESTORE_LABEL];
    // The API server sets it to the namespace's own name, which a drill changes.
    if (s.kind === 'Namespace') delete s.metadata.labels['kubernetes.io/metadata.name'];
    if (Object.keys(s.metadata.labels).length === 0) delete s.metadata.labels;
  }
  for (const o of s.metadata.ownerReferences ?? []) o.uid = '';
  if (s.kind === 'PersistentVolumeClaim') {
    const spec = s['spec'] as { volumeName?: string } | undefined;
    if (spec) delete spec.volumeName;
  }
  return s;
}

/** Up to `limit` JSON paths where two values differ, for a report a person can act on. */
export function differences(a: unknown, b: unknown, limit = 5, at = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null;
  if (!isObject(a) || !isObject(b) || Array.isArray(a) !== Array.isArray(b)) return [at || '/'];
  const found: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (found.length >= limit) break;
    found.push(...differences(a[key], b[key], limit - found.length, `${at}/${key}`));
  }
  return found;
}

/** Compares a restored object with what its catalog record says it must be; the differing paths. */
export function compareRestored(live: KubeObject, expected: KubeObject, group: string): string[] {
  return differences(comparableForDrill(live, group), comparableForDrill(expected, group));
}
