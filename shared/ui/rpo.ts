import type { BackupPhase } from '../messages/common.js';

/** What the RPO computation needs of a catalog. */
export interface BackupTimes {
  phase: BackupPhase;
  startedAt: string;
  policy: { name: string };
}

export interface RpoStatus {
  /** Time since the data of the newest Completed backup was taken; undefined when there is none. */
  rpoMs: number | undefined;
  /** The RPO the schedule allows, when it can be told; undefined with fewer than two backups. */
  allowedMs: number | undefined;
  overdue: boolean;
  /** Why it is or is not overdue, in words for the page. */
  reason: string;
}

/**
 * The RPO a cluster has and whether it is overdue. A policy carries no
 * schedule (the scheduler job holds the cron, outside the store), so the
 * schedule is inferred: twice the interval between the two newest backups of
 * the newest backup's policy, any phase (a failed attempt still shows the
 * cadence). The RPO counts from when the data was taken (startedAt), not when
 * the upload finished. No Completed backup at all is overdue: nothing can be
 * restored in full.
 */
export function rpoStatus(backups: readonly BackupTimes[], now: number): RpoStatus {
  const ordered = [...backups].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const newest = ordered.at(-1);
  if (!newest)
    return { rpoMs: undefined, allowedMs: undefined, overdue: false, reason: 'no backups' };
  const samePolicy = ordered.filter((b) => b.policy.name === newest.policy.name);
  const previous = samePolicy.at(-2);
  const allowedMs = previous
    ? 2 * (Date.parse(newest.startedAt) - Date.parse(previous.startedAt))
    : undefined;
  const lastGood = ordered.filter((b) => b.phase === 'Completed').at(-1);
  if (!lastGood) {
    return { rpoMs: undefined, allowedMs, overdue: true, reason: 'no Completed backup' };
  }
  const rpoMs = now - Date.parse(lastGood.startedAt);
  if (allowedMs === undefined) {
    return { rpoMs, allowedMs, overdue: false, reason: 'one backup only: schedule unknown' };
  }
  const overdue = rpoMs > allowedMs;
  return {
    rpoMs,
    allowedMs,
    overdue,
    reason: overdue ? 'older than twice the backup interval' : 'within twice the backup interval',
  };
}
