import { releaseLease } from '../catalog/backup-lease.js';
import { Layout } from '../catalog/layout.js';
import { errorMessage } from '../errors.js';
import { restoreContentDigest, type RestoreJob } from '../restore/run-restore.js';
import { getIfPresent, type ObjectStore } from '../store/object-store.js';

/**
 * The request digest of a drill's restore: made from the drill's id too, so
 * saved progress under the drill's restore id is recognisably this drill's
 * (and a restore someone else started under that id is never taken for it).
 */
export function drillRestoreDigest(
  drillId: string,
  job: Omit<RestoreJob, 'requestDigest'>,
): string {
  return restoreContentDigest({
    drillId,
    source: job.source,
    backupId: job.backupId,
    target: job.target,
    options: job.options,
  });
}

/** The request digest recorded in saved progress; undefined when there is none. */
async function savedDigest(store: ObjectStore, key: string): Promise<unknown> {
  const body = await getIfPresent(store, key);
  if (body === undefined) return undefined;
  try {
    return (JSON.parse(body.toString('utf8')) as { requestDigest?: unknown }).requestDigest;
  } catch {
    return 'unreadable';
  }
}

/**
 * Drops what a drill's unfinished restore keeps in the store: its saved
 * progress (which `restore get` and a redelivered step read as a restore
 * still running, to be resumed) and its lease on the backup (which holds
 * off retention until it lapses). A drill never resumes its restore: it
 * has already deleted what the restore made, so that progress describes
 * nothing. Progress with another request's digest is not the drill's and
 * is left alone. Returns what could not be removed, for leftBehind.
 */
export async function abandonDrillRestore(store: ObjectStore, job: RestoreJob): Promise<string[]> {
  const progressKey = Layout.restoreProgress(job.restoreId);
  const leaseKey = Layout.lease(job.source, job.backupId, job.restoreId);
  try {
    const digest = await savedDigest(store, progressKey);
    if (digest !== undefined && digest !== job.requestDigest) return [];
    await store.delete(progressKey);
  } catch (error) {
    return [`restore progress ${progressKey} in the store: ${errorMessage(error)}`];
  }
  try {
    await releaseLease(store, job.source, job.backupId, job.restoreId);
  } catch (error) {
    return [`lease ${leaseKey} on backup ${job.backupId}: ${errorMessage(error)}`];
  }
  return [];
}
