import type { ResourceRef } from '../messages/backup.js';
import { getOrUndefined, pathSegment, type KubeHttp } from '../kube/kube-http.js';

interface APIGroup {
  versions: { version: string }[];
  preferredVersion?: { version: string };
}

/**
 * Where to restore an object whose backed-up version the target does not
 * serve: the same group and kind at the target's preferred version, when
 * the target serves the group but not that version. Undefined when the
 * version is served (or the group not yet: a CRD just created), so the
 * caller's ordinary retry applies.
 *
 * Why converting here rather than backing up every served version (Velero's
 * EnableAPIGroupVersions): a CRD whose conversion strategy is None differs
 * between versions only in apiVersion, which is exactly the conversion the
 * target's API server would make itself; this needs no change to what a
 * backup stores, so catalogs already written restore into newer clusters
 * too. A CRD with a conversion webhook, or a built-in resource whose
 * version was removed, has schemas only the source's server could convert
 * between: refused with the versions named, never written half-converted.
 */
export async function servedAlternative(
  http: KubeHttp,
  ref: ResourceRef,
): Promise<ResourceRef | undefined> {
  if (ref.group === '') return undefined;
  const group = await getOrUndefined<APIGroup>(
    http,
    `/apis/${pathSegment(ref.group, 'API group')}`,
  );
  if (!group || group.versions.some((v) => v.version === ref.version)) return undefined;
  const preferred = group.preferredVersion?.version;
  const versions = group.versions
    .map((v) => v.version)
    .sort((a, b) => Number(b === preferred) - Number(a === preferred));
  const unserved = `${ref.group}/${ref.version} is not served by the target (it serves ${versions.join(', ')})`;
  for (const version of versions) {
    const list = await getOrUndefined<{ resources: { name: string; kind: string }[] }>(
      http,
      `/apis/${pathSegment(ref.group)}/${pathSegment(version)}`,
    );
    const found = list?.resources.find((r) => r.kind === ref.kind && !r.name.includes('/'));
    if (!found) continue;
    const crd = await getOrUndefined<{ spec?: { conversion?: { strategy?: string } } }>(
      http,
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${pathSegment(`${found.name}.${ref.group}`)}`,
    );
    if (!crd) {
      throw new Error(
        `${unserved}; ${ref.kind} is not a custom resource, so it cannot be converted outside its API server`,
      );
    }
    const strategy = crd.spec?.conversion?.strategy ?? 'None';
    if (strategy !== 'None') {
      throw new Error(
        `${unserved}; its CRD converts through a ${strategy} strategy, which only a server can apply`,
      );
    }
    return { ...ref, version, resource: found.name };
  }
  throw new Error(`${unserved}, nor kind ${ref.kind} at any version`);
}

/** The object as it reads at another version of its group (conversion strategy None). */
export function atVersion<T extends { apiVersion: string }>(obj: T, ref: ResourceRef): T {
  return { ...obj, apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version };
}
