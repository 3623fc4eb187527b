import type { ClusterListing } from '../clusters/cluster-inventory.js';
import { API_VERSION, type ClusterBackupJob, type ScheduleTick } from '../messages/index.js';
import { scheduledBackupId, scheduledMinute } from './backup-ids.js';

/** One backup job per selected cluster, all sharing the tick's deterministic backup id. */
export function backupJobsFor(
  tick: ScheduleTick,
  listing: ClusterListing,
  publishTime: string,
): ClusterBackupJob[] {
  const scheduledTime = tick.scheduledTime ?? scheduledMinute(publishTime);
  const backupId = scheduledBackupId(tick.policy.name, scheduledTime);
  return listing.clusters.map((c) => ({
    apiVersion: API_VERSION,
    kind: 'ClusterBackupJob',
    backupId,
    cluster: c.ref,
    policy: tick.policy,
    scheduledTime,
  }));
}
