import { byDataTime, readCatalog, type UnreadableCatalog } from '../catalog/catalog-io.js';
import type { Catalog } from '../catalog/catalog-schema.js';
import { Layout } from '../catalog/layout.js';
import { errorMessage, isRetryable } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectInfo, ObjectStore } from '../store/object-store.js';
import { mapLimit } from '../concurrency.js';
import { rpoStatus, type RpoStatus } from './rpo.js';

export interface ClusterSummary {
  clusterKey: string;
  cluster: ClusterRef;
  /** Backups with a catalog (readable or not). */
  backups: number;
  newest: Catalog | undefined;
  lastGood: Catalog | undefined;
  rpo: RpoStatus;
  unreadable: UnreadableCatalog[];
  /** The cluster was seen deleted (the marker the cluster-events function writes). */
  deleted: boolean;
}

const BATCH = 16;

/** Catalog keys of every cluster, with their store times, from one listing of `backups/`. */
async function catalogKeysByCluster(store: ObjectStore): Promise<Map<string, ObjectInfo[]>> {
  const byCluster = new Map<string, ObjectInfo[]>();
  for await (const info of store.list('backups/')) {
    const m = /^backups\/([^/]+)\/[^/]+\/catalog\.json$/.exec(info.key);
    if (!m?.[1]) continue;
    byCluster.set(m[1], [...(byCluster.get(m[1]) ?? []), info]);
  }
  return byCluster;
}

/**
 * Reads a cluster's catalogs newest-written first, only until the ones the
 * summary needs are known: the newest, the newest Completed, and the one
 * before the newest of its policy (for the RPO's interval). A catalog is
 * written after its backup completes, so an unread one (written earlier than
 * every read one) started before the oldest store time read so far: once the
 * needed catalogs started after that, none unread can displace them. On a
 * store of a thousand backups a cluster reads one batch, not a thousand.
 */
async function readNeededCatalogs(
  store: ObjectStore,
  cluster: ClusterRef,
  infos: ObjectInfo[],
): Promise<{ catalogs: Catalog[]; unreadable: UnreadableCatalog[] }> {
  const pending = [...infos].sort((a, b) => b.updated.getTime() - a.updated.getTime());
  const catalogs: Catalog[] = [];
  const unreadable: UnreadableCatalog[] = [];
  while (pending.length > 0) {
    const batch = pending.splice(0, BATCH);
    await mapLimit(batch, BATCH, async (info) => {
      const backupId = info.key.split('/').at(-2) ?? '';
      try {
        catalogs.push(await readCatalog(store, cluster, backupId));
      } catch (error) {
        unreadable.push({ backupId, reason: errorMessage(error), retryable: isRetryable(error) });
      }
    });
    const floor = batch.at(-1)?.updated.toISOString() ?? '';
    if (pending.length > 0 && settled(catalogs, floor)) break;
  }
  catalogs.sort(byDataTime);
  return { catalogs, unreadable };
}

/** Whether every catalog the summary needs started after `floor` (so none unread can be newer). */
function settled(catalogs: Catalog[], floor: string): boolean {
  const after = catalogs.filter((c) => c.startedAt > floor).sort(byDataTime);
  const newest = after.at(-1);
  if (!newest) return false;
  const ofPolicy = after.filter((c) => c.policy.name === newest.policy.name);
  return ofPolicy.length >= 2 && after.some((c) => c.phase === 'Completed');
}

/** Every cluster with backups, for the cluster list: catalogs only, never packs. */
export async function loadClusterSummaries(
  store: ObjectStore,
  now: Date,
): Promise<ClusterSummary[]> {
  const byCluster = await catalogKeysByCluster(store);
  const keys = [...byCluster.keys()].sort();
  return mapLimit(keys, 4, async (clusterKey): Promise<ClusterSummary> => {
    const cluster = Layout.parseClusterKey(clusterKey) ?? {
      project: clusterKey,
      location: '',
      name: '',
    };
    const infos = byCluster.get(clusterKey) ?? [];
    const [{ catalogs, unreadable }, deleted] = await Promise.all([
      readNeededCatalogs(store, cluster, infos),
      store.exists(Layout.deletedMarker(cluster)),
    ]);
    return {
      clusterKey,
      cluster,
      backups: infos.length,
      newest: catalogs.at(-1),
      lastGood: catalogs.filter((c) => c.phase === 'Completed').at(-1),
      rpo: rpoStatus(catalogs, now.getTime()),
      unreadable,
      deleted,
    };
  });
}
