import { latestGoodCatalog } from '../catalog/catalog-io.js';
import { Layout } from '../catalog/layout.js';
import { NotFoundError } from '../errors.js';
import type { ClusterRef, RestoreRequest } from '../messages/index.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Sealer } from '../crypto/sealer.js';

/** Which backup a restore request means: a named one, or the newest Completed one of a cluster. */
export async function resolveBackup(
  store: ObjectStore,
  request: Pick<RestoreRequest, 'backup' | 'resolvedBackupId'>,
  sealer?: Sealer,
): Promise<{ cluster: ClusterRef; backupId: string }> {
  if ('backupId' in request.backup)
    return { cluster: request.backup.cluster, backupId: request.backup.backupId };
  const cluster = request.backup.latestOf;
  if (request.resolvedBackupId) return { cluster, backupId: request.resolvedBackupId };
  // "The latest" a message asks for is the latest one sealed with the data key: a planted catalog never is.
  const { catalog: latest, unreadable } = await latestGoodCatalog(store, cluster, {
    sealer,
    authenticatedOnly: true,
  });
  if (!latest) {
    const skipped = unreadable.length
      ? ` (${unreadable.length} unreadable catalogs skipped: ${unreadable.map((u) => `${u.backupId}: ${u.reason}`).join('; ')})`
      : '';
    throw new NotFoundError(
      `Cluster ${Layout.clusterKey(cluster)} has no authenticated Completed backup in ${store.url}${skipped}`,
    );
  }
  return { cluster, backupId: latest.backupId };
}
