import type { Catalog } from '../catalog/catalog-schema.js';
import { readCatalogs } from '../catalog/catalog-io.js';
import { Layout } from '../catalog/layout.js';
import { emitCatalog } from '../backup/emit-catalog.js';
import { readPlan, type BackupPlan } from '../backup/parts.js';
import type { Sealer } from '../crypto/sealer.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import { errorMessage, NotFoundError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';
import { decideExpiry } from './expiry.js';
import { collectPacks, listPacks } from './pack-collection.js';
import { readStoreLayout, type BackupFolder } from '../catalog/store-layout.js';
import { liveLeases } from '../catalog/backup-lease.js';
import { collectSnapshots } from './snapshot-collection.js';

/** Packs younger than this are never collected: a running shard may have just written them. */
export const PACK_GRACE_MS = 6 * 3_600_000;
/** A backup with no catalog this long after its plan is finished as PartiallyFailed. */
export const ABANDONED_AFTER_MS = 12 * 3_600_000;

type Entry = { cluster: string; backupId: string; reason: string };

export interface RetentionReport {
  expired: Entry[];
  kept: Entry[];
  finished: { cluster: string; backupId: string; missing: string[] }[];
  /** Catalogs that could not be read: collection stopped around them, never went ahead. */
  unreadable: Entry[];
  /** What this sweep did not collect, and why (an unreadable catalog, a failed read). */
  held: string[];
  /** Kept backups that are no longer restorable (a pack is missing): an alarm, not a deletion. */
  unrestorable: Entry[];
  deletedPacks: number;
  deletedSnapshots: string[];
  errors: string[];
  dryRun: boolean;
}

export interface SweepOptions {
  /** The time expiry is judged at (tests run the clock forward). */
  now?: number;
  dryRun?: boolean;
  packGraceMs?: number;
  /** The data key: backups finished as abandoned are sealed with it, like any other catalog. */
  sealing?: { sealer: Sealer; encryption: { keyId: string; wrappedBy: string } };
  /** Called as each expired backup starts being deleted: progress, and a record if the sweep is killed. */
  onExpiring?: (cluster: string, backupId: string) => void;
}

/**
 * The retention sweep. It reads everything first: the store's layout (a
 * key it does not recognise refuses the sweep before any delete), every
 * catalog, every lock, every running backup. Only then does it delete: the
 * expired backups, then the snapshots and packs nothing else references.
 * What it could not read, it does not delete around: an unreadable catalog
 * holds expiry and snapshot collection for its cluster and pack collection
 * for the whole store, and is reported.
 */
export async function sweep(
  store: ObjectStore,
  disks: DiskSnapshotter | undefined,
  options: SweepOptions = {},
): Promise<RetentionReport> {
  const now = options.now ?? Date.now();
  const dryRun = options.dryRun ?? false;
  const report: RetentionReport = {
    expired: [],
    kept: [],
    finished: [],
    unreadable: [],
    held: [],
    unrestorable: [],
    deletedPacks: 0,
    deletedSnapshots: [],
    errors: [],
    dryRun,
  };
  const layout = await readStoreLayout(store);
  const read = new Map<string, Catalog>(); // every catalog read, by folder key
  const kept: Catalog[] = [];
  const expired: Catalog[] = [];
  const heldClusters = new Set<string>();
  let packsHeld = false;

  for (const [clusterKey, folders] of layout.clusters) {
    const cluster = folders[0]!.cluster;
    const live = folders.filter((f) => !f.expiring);
    const { catalogs, unreadable } = await readCatalogs(
      store,
      cluster,
      live.filter((f) => f.catalog).map((f) => f.backupId),
    );
    for (const c of catalogs) read.set(Layout.backupDir(cluster, c.backupId), c);
    if (unreadable.length > 0) {
      heldClusters.add(clusterKey);
      packsHeld = true;
      for (const u of unreadable)
        report.unreadable.push({ cluster: clusterKey, backupId: u.backupId, reason: u.reason });
      report.held.push(
        `cluster ${clusterKey}: ${unreadable.length} unreadable catalogs; no backup, snapshot or pack is collected around them`,
      );
    }
    const abandoned = await findAbandoned(store, live, now, report);
    if (abandoned.held) {
      heldClusters.add(clusterKey);
      packsHeld = true;
    }
    for (const plan of abandoned.plans) {
      if (dryRun) continue;
      const result = await emitCatalog(store, cluster, plan.backupId, plan.policy, {
        force: true,
        completedAt: new Date(now).toISOString(),
        ...(options.sealing ?? {}),
      });
      if (result.status === 'waiting') continue;
      report.finished.push({
        cluster: clusterKey,
        backupId: plan.backupId,
        missing: result.catalog.errors,
      });
      read.set(Layout.backupDir(cluster, plan.backupId), result.catalog);
      catalogs.push(result.catalog);
    }
    const locked = new Set(live.filter((f) => f.lock).map((f) => f.backupId));
    for (const decision of decideExpiry(catalogs, locked, now)) {
      const catalog = catalogs.find((c) => c.backupId === decision.backupId)!;
      const entry = { cluster: clusterKey, backupId: decision.backupId, reason: decision.reason };
      if (decision.expire && !heldClusters.has(clusterKey)) {
        expired.push(catalog);
        report.expired.push(entry);
      } else {
        kept.push(catalog);
        report.kept.push(
          decision.expire
            ? { ...entry, reason: `held: ${clusterKey} has unreadable catalogs` }
            : entry,
        );
      }
    }
  }
  if (dryRun) return report;

  // Everything is read; deleting comes last. A backup is deleted whole or resumed by the next sweep.
  for (const folder of layout.expiring) {
    // A sweep stopped mid-way left its mark, and may have deleted the catalog already: the mark
    // stays (a restore leasing it is refused), and the deletion is finished once no lease is live.
    const { cluster, backupId } = folder;
    if ((await liveLeases(store, cluster, backupId, now)).length === 0)
      await deleteBackupFolder(store, cluster, backupId);
  }
  for (const catalog of [...expired]) {
    const holders = await markExpiring(store, catalog, now);
    const clusterKey = Layout.clusterKey(catalog.cluster);
    if (holders.length > 0) {
      // A restore is reading it: kept this sweep, its snapshots and packs with it.
      expired.splice(expired.indexOf(catalog), 1);
      kept.push(catalog);
      report.expired = report.expired.filter(
        (e) => !(e.cluster === clusterKey && e.backupId === catalog.backupId),
      );
      report.kept.push({
        cluster: clusterKey,
        backupId: catalog.backupId,
        reason: holders.join(', '),
      });
      continue;
    }
    options.onExpiring?.(clusterKey, catalog.backupId);
    await deleteBackupFolder(store, catalog.cluster, catalog.backupId);
  }
  await collectSnapshots(disks, expired, kept, heldClusters, report);
  let present: Set<string>;
  if (packsHeld) {
    report.held.push('pack collection skipped: not every catalog could be read');
    present = await listPacks(store);
  } else {
    present = await collectPacks(
      store,
      read,
      kept,
      now,
      options.packGraceMs ?? PACK_GRACE_MS,
      report,
    );
  }
  // The scrub: every backup the sweep keeps must still have all its packs.
  for (const c of kept) {
    const missing = c.packs.filter((p) => !present.has(p.digest));
    if (missing.length > 0)
      report.unrestorable.push({
        cluster: Layout.clusterKey(c.cluster),
        backupId: c.backupId,
        reason: `${missing.length} of its ${c.packs.length} packs are missing (${missing[0]!.digest}, ...)`,
      });
  }
  return report;
}

/** Running backups older than the abandonment deadline, to be finished; `held` when a plan could not be read. */
async function findAbandoned(
  store: ObjectStore,
  folders: BackupFolder[],
  now: number,
  report: RetentionReport,
): Promise<{ plans: BackupPlan[]; held: boolean }> {
  const plans: BackupPlan[] = [];
  let held = false;
  for (const f of folders.filter((x) => x.plan && !x.catalog)) {
    try {
      const plan = await readPlan(store, f.cluster, f.backupId);
      if (now - Date.parse(plan.startedAt) > ABANDONED_AFTER_MS) plans.push(plan);
    } catch (error) {
      if (error instanceof NotFoundError) continue; // finished or removed meanwhile
      held = true;
      report.held.push(`backup ${f.backupId}: its plan cannot be read (${errorMessage(error)})`);
    }
  }
  return { plans, held };
}

/**
 * Marks the backup as expiring, then looks for restores leasing it (see
 * backup-lease.ts: whichever side writes second sees the other). With a
 * live lease the mark is taken back and the leasing restores returned;
 * without, the backup is the caller's to delete, catalog first.
 */
async function markExpiring(store: ObjectStore, catalog: Catalog, now: number): Promise<string[]> {
  const { cluster, backupId } = catalog;
  const marker = Layout.expiring(cluster, backupId);
  const mine = await store.createIfAbsent(
    marker,
    JSON.stringify({ expiredAt: new Date(now).toISOString() }),
  );
  // Another sweep is deleting it: that sweep owns the mark and the deletion.
  if (!mine) return ['being deleted by another sweep'];
  const holders = (await liveLeases(store, cluster, backupId, now)).map(
    (r) => `leased by restore ${r}`,
  );
  // A lock taken after this sweep listed the store (the deletion response locks as it goes).
  if (await store.exists(Layout.lock(cluster, backupId))) holders.push('locked');
  // Only this sweep's own mark is taken back, and only while the catalog is still there.
  if (holders.length > 0) await store.delete(marker);
  return holders;
}

/** Catalog, then plan, then the rest; the expiring marker goes last, so a killed sweep resumes. */
async function deleteBackupFolder(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
): Promise<void> {
  await store.delete(Layout.catalog(cluster, backupId));
  await store.delete(Layout.plan(cluster, backupId));
  const marker = Layout.expiring(cluster, backupId);
  for await (const info of store.list(Layout.backupDir(cluster, backupId)))
    if (info.key !== marker) await store.delete(info.key);
  await store.delete(marker);
}
