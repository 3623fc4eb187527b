import { byDataTime } from '../catalog/catalog-io.js';
import type { Catalog } from '../catalog/catalog-schema.js';
import { isLastChance } from './last-chance.js';

const DAY = 86_400_000;

export interface ExpiryDecision {
  backupId: string;
  expire: boolean;
  reason: string;
}

/**
 * The expiry rules for the finished backups of one cluster, as a pure
 * function of their catalogs, which of them are locked, and the time.
 *
 * - TTL and keepLast apply within one policy: an hourly policy never
 *   expires a nightly one's backups. keepLast N keeps every backup of the
 *   policy newer than its N-th newest Completed one, and that one, so
 *   failed attempts never push good backups out.
 * - Locked and last-chance backups never count toward any keepLast; a
 *   locked one stays while locked, a last-chance one until its own TTL.
 * - deleteLockDays keeps a backup that young whatever else applies.
 * - The newest Completed backup of the cluster, and its newest backup of
 *   any phase (the base incremental backups build on), are never expired.
 *
 * Backups still running have no catalog and are not decided here: they stay.
 */
export function decideExpiry(
  catalogs: readonly Catalog[],
  locked: ReadonlySet<string>,
  now: number,
): ExpiryDecision[] {
  const ordered = [...catalogs].sort(byDataTime);
  const newest = ordered.at(-1);
  const newestGood = ordered.filter((c) => c.phase === 'Completed').at(-1);
  const counted = ordered.filter((c) => !locked.has(c.backupId) && !isLastChance(c.backupId));
  return ordered.map((c) => {
    const decide = (expire: boolean, reason: string): ExpiryDecision => ({
      backupId: c.backupId,
      expire,
      reason,
    });
    const { policy } = c;
    const age = now - Date.parse(c.completedAt);
    if (c === newestGood) return decide(false, 'the newest Completed backup of its cluster');
    if (c === newest) return decide(false, 'the newest backup of its cluster');
    if (locked.has(c.backupId)) return decide(false, 'locked');
    if (age < policy.deleteLockDays * DAY)
      return decide(false, `delete-lock for ${policy.deleteLockDays} days`);
    if (age > policy.ttlDays * DAY) return decide(true, `past its ${policy.ttlDays}-day TTL`);
    if (isLastChance(c.backupId))
      return decide(false, `last-chance backup, kept for its ${policy.ttlDays}-day TTL`);
    if (policy.keepLast !== undefined) {
      const position = ordered.indexOf(c);
      const newerGood = counted.filter(
        (o) =>
          o.policy.name === policy.name && o.phase === 'Completed' && ordered.indexOf(o) > position,
      ).length;
      if (newerGood >= policy.keepLast)
        return decide(
          true,
          `beyond keep-last ${policy.keepLast} of policy "${policy.name}" (${newerGood} newer Completed backups)`,
        );
    }
    return decide(false, `within its ${policy.ttlDays}-day TTL`);
  });
}
