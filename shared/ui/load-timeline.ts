import { readCatalogs, type UnreadableCatalog } from '../catalog/catalog-io.js';
import type { Catalog } from '../catalog/catalog-schema.js';
import { Layout } from '../catalog/layout.js';
import { mapLimit } from '../concurrency.js';
import { errorMessage } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import { DrillReport } from '../messages/drill.js';
import { decideExpiry, type ExpiryDecision } from '../pipeline/expiry.js';
import { parseStoredJson, type ObjectStore } from '../store/object-store.js';
import { validate } from '../validate.js';

export interface TimelineEntry {
  catalog: Catalog;
  locked: boolean;
  expiry: ExpiryDecision | undefined;
  /** The backup's last drill; a report that cannot be read is named, not fatal. */
  drill:
    | { verdict: DrillReport['verdict']; drillId: string; rtoSeconds?: number }
    | { error: string }
    | undefined;
}

export interface Timeline {
  cluster: ClusterRef;
  clusterKey: string;
  /** Newest first. */
  entries: TimelineEntry[];
  unreadable: UnreadableCatalog[];
  deleted: boolean;
}

/**
 * A cluster's backups with their locks, expiry and drill verdicts, from one
 * listing of the cluster's folder (not a lookup per backup) and its catalogs.
 */
export async function loadTimeline(
  store: ObjectStore,
  cluster: ClusterRef,
  now: Date,
): Promise<Timeline> {
  const ids: string[] = [];
  const locked = new Set<string>();
  const drillKeys = new Map<string, string[]>();
  const prefix = Layout.clusterBackups(cluster);
  for await (const info of store.list(prefix)) {
    const [backupId, ...rest] = info.key.slice(prefix.length).split('/');
    const file = rest.join('/');
    if (!backupId) continue;
    if (file === 'catalog.json') ids.push(backupId);
    if (file === 'lock.json') locked.add(backupId);
    if (/^drills\/[^/]+\.json$/.test(file)) {
      drillKeys.set(backupId, [...(drillKeys.get(backupId) ?? []), info.key]);
    }
  }
  const [{ catalogs, unreadable }, drills, deleted] = await Promise.all([
    readCatalogs(store, cluster, ids),
    lastDrills(store, drillKeys),
    store.exists(Layout.deletedMarker(cluster)),
  ]);
  const decisions = new Map(
    decideExpiry(catalogs, locked, now.getTime()).map((d) => [d.backupId, d]),
  );
  return {
    cluster,
    clusterKey: Layout.clusterKey(cluster),
    entries: [...catalogs].reverse().map((catalog) => ({
      catalog,
      locked: locked.has(catalog.backupId),
      expiry: decisions.get(catalog.backupId),
      drill: drills.get(catalog.backupId),
    })),
    unreadable,
    deleted,
  };
}

async function lastDrills(
  store: ObjectStore,
  keysByBackup: Map<string, string[]>,
): Promise<Map<string, TimelineEntry['drill']>> {
  const result = new Map<string, TimelineEntry['drill']>();
  await mapLimit([...keysByBackup], 8, async ([backupId, keys]) => {
    try {
      const reports = await Promise.all(
        keys.map(async (key) =>
          validate(DrillReport, parseStoredJson(await store.get(key), key), `drill report ${key}`),
        ),
      );
      const last = reports.sort((a, b) => a.completedAt.localeCompare(b.completedAt)).at(-1);
      if (last) {
        result.set(backupId, {
          verdict: last.verdict,
          drillId: last.drillId,
          ...(last.rtoSeconds !== undefined ? { rtoSeconds: last.rtoSeconds } : {}),
        });
      }
    } catch (error) {
      result.set(backupId, { error: errorMessage(error) });
    }
  });
  return result;
}
