import { Layout } from '../catalog/layout.js';
import { errorMessage } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';

/**
 * How many deliveries of the message that produces one part have failed
 * so far. Pub/Sub puts `deliveryAttempt` in its push body only under a
 * dead-letter policy, and the Functions Framework drops it when it turns
 * the push into a CloudEvent, so failures are counted where every instance
 * sees them: one write-once object per failed delivery, under the backup
 * (deleted with it). A delivery that succeeds writes nothing; the common
 * case costs one existence check.
 */
export async function failedDeliveries(
  store: ObjectStore,
  backup: { cluster: ClusterRef; backupId: string },
  partId: string,
  cap: number,
): Promise<{ count: number; lastError?: string }> {
  let count = 0;
  while (
    count < cap &&
    (await store.exists(Layout.failedAttempt(backup.cluster, backup.backupId, partId, count + 1)))
  )
    count++;
  if (count === 0) return { count };
  const key = Layout.failedAttempt(backup.cluster, backup.backupId, partId, count);
  try {
    const { error } = JSON.parse((await store.get(key)).toString('utf8')) as { error?: unknown };
    return { count, ...(typeof error === 'string' ? { lastError: error } : {}) };
  } catch {
    return { count };
  }
}

/** Records the failure of delivery `count + 1`, with its reason; concurrent duplicates record once. */
export async function recordFailedDelivery(
  store: ObjectStore,
  backup: { cluster: ClusterRef; backupId: string },
  partId: string,
  count: number,
  error: unknown,
): Promise<void> {
  await store.createIfAbsent(
    Layout.failedAttempt(backup.cluster, backup.backupId, partId, count + 1),
    JSON.stringify({ at: new Date().toISOString(), error: errorMessage(error) }),
  );
}
