import { classifyKey, Layout, STORE_LAYOUT } from './layout.js';
import { NotFoundError, PermanentError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';

/** What the store holds for one backup id of one cluster. */
export interface BackupFolder {
  cluster: ClusterRef;
  backupId: string;
  catalog: boolean;
  plan: boolean;
  lock: boolean;
  /** A sweep began deleting it: it is finished off, never revived. */
  expiring: boolean;
}

export interface StoreLayout {
  /** Backup folders by cluster key, in key order. */
  clusters: Map<string, BackupFolder[]>;
  expiring: BackupFolder[];
}

/**
 * Lists the whole store and checks it is a Lifeboat store this version
 * understands: any key Layout does not build, or a layout marker newer than
 * this version, refuses the sweep before anything is deleted. A retention
 * run pointed at the wrong bucket or prefix deletes nothing.
 */
export async function readStoreLayout(store: ObjectStore): Promise<StoreLayout> {
  const folders = new Map<string, BackupFolder>();
  const unknown: string[] = [];
  for await (const info of store.list('')) {
    const k = classifyKey(info.key);
    if (k.kind === 'unknown') unknown.push(info.key);
    if (k.kind !== 'backup') continue;
    const cluster = Layout.parseClusterKey(k.clusterKey);
    if (!cluster) {
      unknown.push(info.key);
      continue;
    }
    const id = `${k.clusterKey}/${k.backupId}`;
    const folder = folders.get(id) ?? {
      cluster,
      backupId: k.backupId,
      catalog: false,
      plan: false,
      lock: false,
      expiring: false,
    };
    if (k.file === 'catalog') folder.catalog = true;
    if (k.file === 'plan') folder.plan = true;
    if (k.file === 'lock') folder.lock = true;
    if (k.file === 'expiring') folder.expiring = true;
    folders.set(id, folder);
  }
  if (unknown.length > 0) {
    throw new PermanentError(
      `Refusing to sweep ${store.url}: ${unknown.length} keys are not in a layout this Lifeboat knows (first: "${unknown[0]}"); is the store URL right?`,
    );
  }
  await checkLayoutMarker(store);
  const clusters = new Map<string, BackupFolder[]>();
  for (const f of [...folders.values()].sort((a, b) =>
    Layout.backupDir(a.cluster, a.backupId).localeCompare(Layout.backupDir(b.cluster, b.backupId)),
  )) {
    const key = Layout.clusterKey(f.cluster);
    clusters.set(key, [...(clusters.get(key) ?? []), f]);
  }
  return { clusters, expiring: [...folders.values()].filter((f) => f.expiring) };
}

async function checkLayoutMarker(store: ObjectStore): Promise<void> {
  let marker: { layout?: unknown; writtenBy?: unknown };
  try {
    marker = JSON.parse((await store.get(Layout.storeMarker())).toString('utf8')) as typeof marker;
  } catch (error) {
    if (error instanceof NotFoundError) return; // stores written before the marker existed
    throw new PermanentError(
      `Refusing to sweep ${store.url}: its layout marker cannot be read`,
      error,
    );
  }
  if (typeof marker.layout !== 'number' || marker.layout > STORE_LAYOUT) {
    throw new PermanentError(
      `Refusing to sweep ${store.url}: its layout is ${String(marker.layout)}, written by ${String(marker.writtenBy)}; this Lifeboat knows layout ${STORE_LAYOUT}: sweep it with that version or later`,
    );
  }
}

/** Records the store's layout version on first use, so older sweeps refuse newer stores. */
export async function markStoreLayout(store: ObjectStore, writtenBy: string): Promise<void> {
  await store.createIfAbsent(
    Layout.storeMarker(),
    JSON.stringify({ layout: STORE_LAYOUT, writtenBy }),
  );
}
