import type { PackRecord } from '../catalog/pack.js';
import { KubeApiError, resourcePath, type KubeHttp } from '../kube/kube-http.js';
import type { KubeObject, OwnerReference } from '../kube/sanitize.js';

/**
 * Owner references carry the owner's uid, which is new in the target. Each
 * reference is pointed at the restored owner (restored in an earlier wave),
 * or dropped when the owner is not in the target, so the garbage collector
 * never deletes the object for a missing owner.
 */
export async function fixOwnerReferences(
  http: KubeHttp,
  obj: KubeObject,
  records: PackRecord[],
): Promise<KubeObject> {
  const fixed: OwnerReference[] = [];
  for (const owner of obj.metadata.ownerReferences ?? []) {
    const [group, version] = owner.apiVersion.includes('/')
      ? owner.apiVersion.split('/')
      : ['', owner.apiVersion];
    const ownerRecord = records.find((r) => r.ref.kind === owner.kind && r.ref.group === group);
    if (!ownerRecord || !version) continue;
    const path = resourcePath({ ...ownerRecord.ref, version }, obj.metadata.namespace, owner.name);
    try {
      const live = await http.request<KubeObject>('GET', path);
      fixed.push({ ...owner, uid: String(live.metadata['uid']) });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error;
    }
  }
  const metadata = { ...obj.metadata };
  if (fixed.length > 0) metadata.ownerReferences = fixed;
  else delete metadata.ownerReferences;
  return { ...obj, metadata };
}
