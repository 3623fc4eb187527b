import type { Catalog } from '../catalog/catalog-schema.js';
import { SNAPSHOT_GROUP, SNAPSHOT_VERSION } from '../disks/csi-snapshotter.js';
import { restoredDiskNameFor } from '../disks/names.js';
import { errorMessage } from '../errors.js';
import { KubeApiError, resourcePath, type KubeHttp } from '../kube/kube-http.js';
import type { KubeObject } from '../kube/sanitize.js';
import { RESTORE_LABEL } from '../restore/apply-object.js';
import { Deadline } from '../time/deadline.js';
import { poll } from '../time/retry.js';
import type { DrillDisks } from './drill-disks.js';
import { drillPrefix } from './drill-names.js';

export interface CleanupResult {
  objectsDeleted: number;
  disksDeleted: number;
  /** What is still there when cleanup gave up: each named with where it is. */
  leftBehind: string[];
}

interface ResourceKind {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

interface Created {
  path: string;
  what: string;
}

const NAMESPACES: ResourceKind = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  namespaced: false,
};
const PVS: ResourceKind = {
  group: '',
  version: 'v1',
  resource: 'persistentvolumes',
  namespaced: false,
};

/**
 * Made outside the backup's own objects by a restore of a CSI volume: the
 * pre-provisioned content (cluster-scoped, carrying the restore label;
 * deletionPolicy Retain, so deleting it never deletes the backup's
 * snapshot) behind the VolumeSnapshot a restored claim is made from (which
 * goes with its drill namespace). A cluster without the snapshot CRDs has none.
 */
const VOLUME_SNAPSHOT_CONTENTS: ResourceKind = {
  group: SNAPSHOT_GROUP,
  version: SNAPSHOT_VERSION,
  resource: 'volumesnapshotcontents',
  namespaced: false,
};

const isGone = (error: unknown): boolean =>
  error instanceof KubeApiError && (error.status === 404 || error.status === 410);

/** Objects of one cluster-scoped resource carrying the drill's restore label; none when the resource is gone. */
async function labelled(
  http: KubeHttp,
  kind: ResourceKind,
  restoreId: string,
): Promise<KubeObject[]> {
  try {
    const list = await http.request<{ items?: KubeObject[] }>('GET', resourcePath(kind), {
      query: { labelSelector: `${RESTORE_LABEL}=${restoreId}` },
    });
    return list.items ?? [];
  } catch (error) {
    if (isGone(error)) return [];
    throw error;
  }
}

/**
 * Deletes what a drill created in the drill cluster and at Compute Engine,
 * and waits until it is gone: its namespaces (named with its prefix and
 * carrying its restore label; the namespace controller deletes what is in
 * them), the cluster-scoped objects carrying its label (of every
 * cluster-scoped resource the backup holds; PVs and the VolumeSnapshotContents
 * of CSI volumes always), then the disks
 * the restore made (once their PVs are gone nothing holds them). Found by
 * label, not from the restore's report, so a drill stopped half-way still
 * cleans up what it made. Every delete goes through the drill's guarded
 * client, which refuses anything without the label.
 */
export async function cleanUpDrill(
  http: KubeHttp,
  disks: DrillDisks | undefined,
  catalog: Catalog | undefined,
  drillId: string,
  restoreId: string,
  diskPaths: readonly string[],
  timeoutMs: number,
): Promise<CleanupResult> {
  const deadline = Deadline.after(timeoutMs);
  const leftBehind: string[] = [];
  const created: Created[] = [];
  const kinds = new Map<string, ResourceKind>([
    ['/persistentvolumes', PVS],
    [`${SNAPSHOT_GROUP}/volumesnapshotcontents`, VOLUME_SNAPSHOT_CONTENTS],
  ]);
  for (const entry of catalog?.packs ?? []) {
    const r = entry.resource;
    if (!r.namespaced && r.resource !== 'namespaces') kinds.set(`${r.group}/${r.resource}`, r);
  }
  // Namespaces first: what runs in them goes before the volumes it holds.
  for (const kind of [NAMESPACES, ...kinds.values()]) {
    try {
      for (const obj of await labelled(http, kind, restoreId)) {
        if (kind === NAMESPACES && !obj.metadata.name.startsWith(drillPrefix(drillId))) continue;
        created.push({
          path: resourcePath(kind, undefined, obj.metadata.name),
          what: `${kind.resource} ${obj.metadata.name}`,
        });
      }
    } catch (error) {
      leftBehind.push(
        `${kind.resource} labelled ${RESTORE_LABEL}=${restoreId}: could not be listed: ${errorMessage(error)}`,
      );
    }
  }
  let objectsDeleted = 0;
  for (const c of created) {
    try {
      await http.request('DELETE', c.path, { query: { propagationPolicy: 'Background' } });
      objectsDeleted += 1;
    } catch (error) {
      if (!isGone(error)) leftBehind.push(`${c.what}: ${errorMessage(error)}`);
    }
  }
  let remaining = created;
  const grace = Deadline.after(FINALIZER_GRACE_MS);
  let released = false;
  if (remaining.length > 0) {
    await poll(deadline, 500, async () => {
      if (!released && grace.expired()) {
        // Once, after the drill cluster's own controllers had their chance.
        released = true;
        const namespaces = remaining.filter((c) => c.path.startsWith('/api/v1/namespaces/'));
        const names = namespaces.map((c) => c.path.slice('/api/v1/namespaces/'.length));
        await releaseFinalizers(http, namespacedKinds(catalog), names, restoreId, leftBehind);
      }
      const still: Created[] = [];
      for (const c of remaining) {
        try {
          await http.request('GET', c.path);
          still.push(c);
        } catch (error) {
          if (!isGone(error)) still.push(c);
        }
      }
      remaining = still;
      return remaining.length === 0 ? true : undefined;
    });
  }
  for (const c of remaining) {
    if (!leftBehind.some((l) => l.startsWith(`${c.what}:`)))
      leftBehind.push(`${c.what}: still there ${Math.round(timeoutMs / 1000)}s after its deletion`);
  }
  const disksDeleted = await deleteDisks(disks, restoreId, diskPaths, deadline.at, leftBehind);
  return { objectsDeleted, disksDeleted, leftBehind };
}

/**
 * How long the drill cluster's controllers get to run the finalizers of
 * what the drill deleted before the drill removes them itself.
 */
const FINALIZER_GRACE_MS = 10_000;

function namespacedKinds(catalog: Catalog | undefined): ResourceKind[] {
  const kinds = new Map<string, ResourceKind>();
  for (const entry of catalog?.packs ?? []) {
    const r = entry.resource;
    if (r.namespaced) kinds.set(`${r.group}/${r.resource}`, r);
  }
  return [...kinds.values()];
}

/**
 * A restored object keeps its finalizers (a restore gives back what was
 * there), but the operator that would run them seldom runs in a drill
 * cluster, and its namespace would stay Terminating for ever. Removes the
 * finalizers of the drill's own objects (its label, in its namespaces)
 * that are already being deleted, and nothing else.
 */
async function releaseFinalizers(
  http: KubeHttp,
  kinds: readonly ResourceKind[],
  namespaces: readonly string[],
  restoreId: string,
  leftBehind: string[],
): Promise<void> {
  for (const namespace of namespaces) {
    for (const kind of kinds) {
      let items: KubeObject[];
      try {
        const list = await http.request<{ items?: KubeObject[] }>(
          'GET',
          resourcePath(kind, namespace),
          { query: { labelSelector: `${RESTORE_LABEL}=${restoreId}` } },
        );
        items = list.items ?? [];
      } catch (error) {
        if (isGone(error)) continue;
        throw error;
      }
      for (const obj of items) {
        if (!obj.metadata.deletionTimestamp || !obj.metadata.finalizers?.length) continue;
        if (obj.metadata.labels?.[RESTORE_LABEL] !== restoreId) continue;
        try {
          await http.request('PATCH', resourcePath(kind, namespace, obj.metadata.name), {
            body: { metadata: { finalizers: null } },
            contentType: 'application/merge-patch+json',
          });
        } catch (error) {
          if (!isGone(error)) {
            leftBehind.push(
              `${kind.resource} ${namespace}/${obj.metadata.name}: its finalizers could not be removed: ${errorMessage(error)}`,
            );
          }
        }
      }
    }
  }
}

/** The disks a restore made: those its report names, and those its names would give (a restore stopped early). */
export function restoredDiskCandidates(
  catalog: Catalog | undefined,
  restoreId: string,
  targetProject: string | undefined,
  reported: readonly string[],
): string[] {
  const paths = new Set(reported);
  for (const v of catalog?.volumes ?? []) {
    if (!v.disk || !v.snapshot) continue;
    const name = restoredDiskNameFor(restoreId, v.disk);
    const project = targetProject ?? v.disk.project;
    if (v.disk.zone) paths.add(`projects/${project}/zones/${v.disk.zone}/disks/${name}`);
    else if (v.disk.region) paths.add(`projects/${project}/regions/${v.disk.region}/disks/${name}`);
  }
  return [...paths];
}

async function deleteDisks(
  disks: DrillDisks | undefined,
  restoreId: string,
  paths: readonly string[],
  until: number,
  leftBehind: string[],
): Promise<number> {
  if (paths.length === 0) return 0;
  if (!disks) {
    leftBehind.push(...paths.map((p) => `disk ${p}: no Compute Engine client to delete it`));
    return 0;
  }
  let deleted = 0;
  for (const path of paths) {
    try {
      const outcome = await disks.delete(
        path,
        restoreId,
        Deadline.after(Math.max(10_000, until - Date.now())),
      );
      if (outcome === 'deleted') deleted += 1;
    } catch (error) {
      leftBehind.push(`disk ${path}: ${errorMessage(error)}`);
    }
  }
  return deleted;
}
