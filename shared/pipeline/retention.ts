import type { Catalog } from '../catalog/catalog-schema.js';
import { listCatalogs, listClusterKeys, readCatalog } from '../catalog/catalog-io.js';
import { Layout } from '../catalog/layout.js';
import { emitCatalog } from '../backup/emit-catalog.js';
import { readParts, readPlan, type BackupPlan } from '../backup/parts.js';
import { Deadline } from '../disks/deadline.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import { errorMessage } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';
import { isLocked } from './locks.js';

const DAY = 86_400_000;
/** Packs younger than this are never collected: a running backup may have just written them. */
export const PACK_GRACE_MS = 6 * 3_600_000;
/** A backup with no catalog this long after its plan is finished as PartiallyFailed. */
export const ABANDONED_AFTER_MS = 12 * 3_600_000;

export interface RetentionReport {
  expired: { cluster: string; backupId: string; reason: string }[];
  kept: { cluster: string; backupId: string; reason: string }[];
  finished: { cluster: string; backupId: string; missing: string[] }[];
  deletedPacks: number;
  deletedSnapshots: string[];
  errors: string[];
  dryRun: boolean;
}

function clusterFromKey(key: string): ClusterRef {
  const [project = '', location = '', ...rest] = key.split('.');
  return { project, location, name: rest.join('.') };
}

/** Why a backup must stay, or undefined when it has expired. */
async function keepReason(
  store: ObjectStore,
  catalog: Catalog,
  index: number,
  ordered: Catalog[],
  now: number,
): Promise<string | undefined> {
  const age = now - Date.parse(catalog.completedAt);
  const { policy } = catalog;
  const newestGood = ordered.filter((c) => c.phase === 'Completed').at(-1);
  if (catalog === newestGood) return 'the newest Completed backup of its cluster is never expired';
  if (index === ordered.length - 1)
    return 'the newest backup of its cluster (incremental backups build on it)';
  if (await isLocked(store, catalog.cluster, catalog.backupId)) return 'locked';
  if (age < policy.deleteLockDays * DAY) return `delete-lock for ${policy.deleteLockDays} days`;
  const rank = ordered.length - 1 - index; // 0 = newest
  const beyondKeepLast = policy.keepLast !== undefined && rank >= policy.keepLast;
  if (age > policy.ttlDays * DAY) return undefined;
  if (beyondKeepLast) return undefined;
  return `within its ${policy.ttlDays}-day TTL`;
}

/**
 * The retention sweep: finishes abandoned backups, expires backups by TTL
 * and keep-last-N (honouring locks, delete-lock days, and always keeping the
 * newest Completed backup of every cluster, deleted or not), then removes
 * snapshots and packs that no remaining catalog, and no backup in progress,
 * references. Safe while backups run: in-progress plans and their parts
 * count as references, and young packs are left alone.
 */
export async function sweep(
  store: ObjectStore,
  disks: DiskSnapshotter | undefined,
  options: { now?: number; dryRun?: boolean } = {},
): Promise<RetentionReport> {
  const now = options.now ?? Date.now();
  const dryRun = options.dryRun ?? false;
  const report: RetentionReport = {
    expired: [],
    kept: [],
    finished: [],
    deletedPacks: 0,
    deletedSnapshots: [],
    errors: [],
    dryRun,
  };
  const remaining: Catalog[] = [];
  const expired: Catalog[] = [];
  const inProgress: BackupPlan[] = [];
  for (const key of await listClusterKeysWithPlans(store)) {
    const cluster = clusterFromKey(key);
    const ids = new Set(await listCatalogs(store, cluster));
    for (const plan of await plansWithoutCatalog(store, cluster, ids)) {
      // Abandonment is judged on the real clock, whatever `now` the expiry uses.
      if (Date.now() - Date.parse(plan.startedAt) > ABANDONED_AFTER_MS && !dryRun) {
        const result = await emitCatalog(store, cluster, plan.backupId, plan.policy, {
          force: true,
        });
        if (result.status !== 'waiting') {
          report.finished.push({
            cluster: key,
            backupId: plan.backupId,
            missing: result.catalog.errors,
          });
          ids.add(plan.backupId);
        }
      } else {
        inProgress.push(plan);
      }
    }
    const catalogs = await Promise.all(
      [...ids].map((id) => readCatalog(store, cluster, id).catch(() => undefined)),
    );
    const ordered = catalogs
      .filter((c): c is Catalog => c !== undefined)
      .sort((a, b) => a.completedAt.localeCompare(b.completedAt));
    for (const [index, catalog] of ordered.entries()) {
      const reason = await keepReason(store, catalog, index, ordered, now);
      if (reason) {
        remaining.push(catalog);
        report.kept.push({ cluster: key, backupId: catalog.backupId, reason });
      } else {
        expired.push(catalog);
        report.expired.push({
          cluster: key,
          backupId: catalog.backupId,
          reason: 'past its TTL or beyond keep-last',
        });
      }
    }
  }
  if (dryRun) return report;
  for (const catalog of expired) await deleteBackup(store, catalog);
  await collectSnapshots(disks, expired, remaining, report);
  await collectPacks(store, remaining, inProgress, report);
  return report;
}

async function listClusterKeysWithPlans(store: ObjectStore): Promise<string[]> {
  const keys = new Set(await listClusterKeys(store));
  for await (const info of store.list('backups/')) {
    const m = /^backups\/([^/]+)\/[^/]+\/parts\/plan\.json$/.exec(info.key);
    if (m?.[1]) keys.add(m[1]);
  }
  return [...keys].sort();
}

async function plansWithoutCatalog(
  store: ObjectStore,
  cluster: ClusterRef,
  withCatalog: Set<string>,
): Promise<BackupPlan[]> {
  const plans: BackupPlan[] = [];
  for await (const info of store.list(Layout.clusterBackups(cluster))) {
    const m = /\/([^/]+)\/parts\/plan\.json$/.exec(info.key);
    if (m?.[1] && !withCatalog.has(m[1])) plans.push(await readPlan(store, cluster, m[1]));
  }
  return plans;
}

/** The catalog goes first, so a backup disappears whole; then everything under its folder. */
async function deleteBackup(store: ObjectStore, catalog: Catalog): Promise<void> {
  await store.delete(Layout.catalog(catalog.cluster, catalog.backupId));
  for await (const info of store.list(Layout.backupDir(catalog.cluster, catalog.backupId)))
    await store.delete(info.key);
}

async function collectSnapshots(
  disks: DiskSnapshotter | undefined,
  expired: Catalog[],
  remaining: Catalog[],
  report: RetentionReport,
): Promise<void> {
  const name = (s: { project: string; name: string }): string => `${s.project}/${s.name}`;
  const inUse = new Set(
    remaining.flatMap((c) => c.volumes.flatMap((v) => (v.snapshot ? [name(v.snapshot)] : []))),
  );
  const candidates = new Map<string, { project: string; name: string }>();
  for (const c of expired)
    for (const v of c.volumes)
      if (v.snapshot && !inUse.has(name(v.snapshot))) candidates.set(name(v.snapshot), v.snapshot);
  if (candidates.size === 0) return;
  if (!disks) {
    report.errors.push(
      `${candidates.size} snapshots are no longer referenced, but no Compute Engine access is configured to delete them`,
    );
    return;
  }
  for (const snapshot of candidates.values()) {
    try {
      const outcome = await disks.deleteSnapshot(snapshot, Deadline.after(120_000));
      if (outcome.status === 'FAILED')
        report.errors.push(`snapshot ${name(snapshot)}: ${outcome.reason}`);
      else report.deletedSnapshots.push(name(snapshot));
    } catch (error) {
      report.errors.push(`snapshot ${name(snapshot)}: ${errorMessage(error)}`);
    }
  }
}

async function collectPacks(
  store: ObjectStore,
  remaining: Catalog[],
  inProgress: BackupPlan[],
  report: RetentionReport,
): Promise<void> {
  const referenced = new Set(remaining.flatMap((c) => c.packs.map((p) => p.digest)));
  for (const plan of inProgress) {
    const parts = await readParts(store, plan.cluster, plan.backupId);
    for (const part of parts.manifests) for (const p of part.packs) referenced.add(p.digest);
  }
  for await (const info of store.list('objects/sha256/')) {
    const digest = /([0-9a-f]{64})\.jsonl\.gz$/.exec(info.key)?.[1];
    if (!digest || referenced.has(digest)) continue;
    if (Date.now() - info.updated.getTime() < PACK_GRACE_MS) continue; // real clock: a running backup writes now
    await store.delete(info.key);
    report.deletedPacks += 1;
  }
}
