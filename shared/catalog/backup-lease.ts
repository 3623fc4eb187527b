import { NotFoundError, PermanentError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';
import { Layout } from './layout.js';

/** How long one restore step's lease lasts; each step renews it, the end of the restore drops it. */
export const LEASE_MS = 60 * 60_000;

interface Lease {
  restoreId: string;
  until: string;
}

/**
 * A restore leases the backup it reads so retention does not delete it
 * underneath. Both sides write their mark and then look for the other's:
 * the restore writes its lease and then checks that the backup is not
 * expiring; the sweep writes the expiring marker and then checks for live
 * leases. Whichever comes second sees the first, so they never both go on.
 */
export async function leaseBackup(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  restoreId: string,
  now = Date.now(),
): Promise<void> {
  const lease: Lease = { restoreId, until: new Date(now + LEASE_MS).toISOString() };
  await store.put(Layout.lease(cluster, backupId, restoreId), JSON.stringify(lease));
  try {
    await refuseIfExpiring(store, cluster, backupId, 'restored');
  } catch (error) {
    await releaseLease(store, cluster, backupId, restoreId);
    throw error;
  }
}

/**
 * The second half of the mark-then-check protocol, for whoever holds on
 * to a backup (a lease, a lock): after writing its own mark, it looks for
 * the sweep's, and gives up when the backup is already being deleted.
 */
export async function refuseIfExpiring(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  action: string,
): Promise<void> {
  if (await store.exists(Layout.expiring(cluster, backupId))) {
    throw new PermanentError(
      `Backup ${backupId} of ${Layout.clusterKey(cluster)} has expired and is being deleted: it cannot be ${action}`,
    );
  }
}

export async function releaseLease(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  restoreId: string,
): Promise<void> {
  await store.delete(Layout.lease(cluster, backupId, restoreId));
}

/** The restores holding a live lease on a backup; a lease that cannot be read counts as live. */
export async function liveLeases(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  now: number,
): Promise<string[]> {
  const prefix = Layout.leases(cluster, backupId);
  const live: string[] = [];
  for await (const info of store.list(prefix)) {
    try {
      const lease = JSON.parse((await store.get(info.key)).toString('utf8')) as Partial<Lease>;
      if (typeof lease.until === 'string' && Date.parse(lease.until) <= now) continue;
      live.push(String(lease.restoreId));
    } catch (error) {
      if (error instanceof NotFoundError) continue; // released meanwhile
      live.push(info.key.slice(prefix.length)); // unreadable: err on keeping
    }
  }
  return live;
}
