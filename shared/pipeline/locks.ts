import { Layout } from '../catalog/layout.js';
import { refuseIfExpiring } from '../catalog/backup-lease.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';

export interface BackupLock {
  lockedAt: string;
  reason: string;
}

/** Locks a backup against expiry; retention never deletes a locked backup. Idempotent. */
export async function lockBackup(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  reason: string,
): Promise<void> {
  const lock: BackupLock = { lockedAt: new Date().toISOString(), reason };
  await store.createIfAbsent(Layout.lock(cluster, backupId), JSON.stringify(lock));
  // The lock goes first, then the check: a sweep marks first and checks for locks after, so one
  // of the two sees the other (as with restore leases).
  await refuseIfExpiring(store, cluster, backupId, 'locked');
}

export async function isLocked(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
): Promise<boolean> {
  return store.exists(Layout.lock(cluster, backupId));
}
