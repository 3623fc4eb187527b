import type { Catalog } from '../catalog/catalog-schema.js';
import { readCatalog } from '../catalog/catalog-io.js';
import { classifyKey, Layout } from '../catalog/layout.js';
import { readStoreLayout } from '../catalog/store-layout.js';
import { readParts, readPlan } from '../backup/parts.js';
import { errorMessage, NotFoundError } from '../errors.js';
import type { ObjectStore } from '../store/object-store.js';

/** Held: a reference could not be established, so no pack is deleted this sweep. */
class Held extends Error {}

/** Digests of every pack in the store. */
export async function listPacks(store: ObjectStore): Promise<Set<string>> {
  const present = new Set<string>();
  for await (const info of store.list('objects/sha256/')) {
    const k = classifyKey(info.key);
    if (k.kind === 'pack') present.add(k.digest);
  }
  return present;
}

/**
 * Deletes the packs nothing references, after the expired backups are gone.
 * References are established afresh, after those deletions: every kept
 * catalog, every catalog written while the sweep ran, and for each backup
 * still running, its parts and the catalog it builds on (its shards may be
 * reusing that catalog's packs without uploading them). A running backup
 * whose base catalog is gone, or any read that fails, holds the whole
 * collection. Returns the packs left in the store.
 */
export async function collectPacks(
  store: ObjectStore,
  read: ReadonlyMap<string, Catalog>,
  kept: readonly Catalog[],
  now: number,
  graceMs: number,
  report: { deletedPacks: number; held: string[] },
): Promise<Set<string>> {
  let referenced: Set<string>;
  try {
    referenced = await currentReferences(store, read, kept);
  } catch (error) {
    report.held.push(`pack collection skipped: ${errorMessage(error)}`);
    return listPacks(store);
  }
  const present = new Set<string>();
  for await (const info of store.list('objects/sha256/')) {
    const k = classifyKey(info.key);
    if (k.kind !== 'pack') continue;
    if (
      referenced.has(k.digest) ||
      now - info.updated.getTime() < graceMs ||
      (await rewritten(store, info.key, now, graceMs))
    ) {
      present.add(k.digest);
      continue;
    }
    await store.delete(info.key);
    report.deletedPacks += 1;
  }
  return present;
}

/**
 * Whether a pack was written again since it was listed (a shard found it in
 * the store and refreshed it instead of uploading): looked at right before
 * the delete, since a long listing can be minutes old by then.
 */
async function rewritten(
  store: ObjectStore,
  key: string,
  now: number,
  graceMs: number,
): Promise<boolean> {
  for await (const fresh of store.list(key))
    if (fresh.key === key) return now - fresh.updated.getTime() < graceMs;
  return false;
}

async function currentReferences(
  store: ObjectStore,
  read: ReadonlyMap<string, Catalog>,
  kept: readonly Catalog[],
): Promise<Set<string>> {
  const referenced = new Set(kept.flatMap((c) => c.packs.map((p) => p.digest)));
  const add = (c: Catalog): void => c.packs.forEach((p) => referenced.add(p.digest));
  const catalogOf = async (cluster: Catalog['cluster'], backupId: string): Promise<Catalog> =>
    read.get(Layout.backupDir(cluster, backupId)) ?? readCatalog(store, cluster, backupId);
  const layout = await readStoreLayout(store);
  for (const folders of layout.clusters.values()) {
    for (const f of folders) {
      if (f.expiring) continue;
      try {
        if (f.catalog) {
          add(await catalogOf(f.cluster, f.backupId));
          continue;
        }
        const parts = await readParts(store, f.cluster, f.backupId);
        for (const part of parts.manifests) for (const p of part.packs) referenced.add(p.digest);
        if (!f.plan) continue;
        const plan = await readPlan(store, f.cluster, f.backupId);
        if (plan.previousBackupId) add(await catalogOf(f.cluster, plan.previousBackupId));
      } catch (error) {
        const what =
          error instanceof NotFoundError
            ? 'a catalog it names is gone (a running backup may still reuse its packs)'
            : errorMessage(error);
        throw new Held(`backup ${f.backupId} of ${Layout.clusterKey(f.cluster)}: ${what}`);
      }
    }
  }
  return referenced;
}
