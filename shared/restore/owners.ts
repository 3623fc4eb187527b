import type { PackRecord } from '../catalog/pack.js';
import { KubeApiError, resourcePath, type KubeHttp } from '../kube/kube-http.js';
import type { ResourceRef } from '../messages/backup.js';
import type { KubeObject, OwnerReference } from '../kube/sanitize.js';
import { servedAlternative } from './served-version.js';

async function getOwner(
  http: KubeHttp,
  ref: ResourceRef,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    const live = await http.request<KubeObject>('GET', resourcePath(ref, namespace, name));
    return { ...live, apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version };
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 404)) throw error;
    return undefined;
  }
}

/**
 * An owner restored at another version than the backup's (served-version.ts):
 * the reference follows it, so the garbage collector resolves the owner.
 */
async function atServedVersion(
  http: KubeHttp,
  ref: ResourceRef,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  let alternative: ResourceRef | undefined;
  try {
    alternative = await servedAlternative(http, ref);
  } catch {
    return undefined; // not restorable at any version: the owner is not in the target
  }
  return alternative ? getOwner(http, alternative, namespace, name) : undefined;
}

/**
 * Owner references carry the owner's uid, which is new in the target. Each
 * reference is pointed at the restored owner (restored in an earlier wave),
 * or dropped when the owner is not in the target, so the garbage collector
 * never deletes the object for a missing owner.
 */
export async function fixOwnerReferences(
  http: KubeHttp,
  obj: KubeObject,
  records: readonly Pick<PackRecord, 'ref'>[],
): Promise<KubeObject> {
  const fixed: OwnerReference[] = [];
  for (const owner of obj.metadata.ownerReferences ?? []) {
    const [group, version] = owner.apiVersion.includes('/')
      ? owner.apiVersion.split('/')
      : ['', owner.apiVersion];
    const ownerRecord = records.find((r) => r.ref.kind === owner.kind && r.ref.group === group);
    if (!ownerRecord || !version) continue;
    const ref = { ...ownerRecord.ref, version };
    const live =
      (await getOwner(http, ref, obj.metadata.namespace, owner.name)) ??
      (await atServedVersion(http, ref, obj.metadata.namespace, owner.name));
    if (live)
      fixed.push({ ...owner, apiVersion: live.apiVersion, uid: String(live.metadata['uid']) });
  }
  const metadata = { ...obj.metadata };
  if (fixed.length > 0) metadata.ownerReferences = fixed;
  else delete metadata.ownerReferences;
  return { ...obj, metadata };
}
