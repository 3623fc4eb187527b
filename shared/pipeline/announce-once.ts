import { Layout } from '../catalog/layout.js';
import { TransientError } from '../errors.js';
import type { BackupCompleted } from '../messages/index.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Deadline } from '../time/deadline.js';

/**
 * How long a claim to announce a backup is honoured before another
 * invocation takes over: far longer than a publish takes, so a live holder
 * is never overtaken, and short enough that a dead one delays the
 * announcement by minutes, not until the 12-hour sweep.
 */
export const ANNOUNCE_LEASE_MS = Number(process.env['LIFEBOAT_ANNOUNCE_LEASE_MS'] ?? 120_000);

interface Claim {
  claimedAt: string;
  /** A claim given up by its holder (its publish failed): the next delivery need not wait. */
  released?: boolean;
}

/**
 * Publishes a backup's BackupCompleted once, whichever invocations race and
 * wherever a process dies. Claims are numbered, write-once objects: the
 * invocation that creates claim n publishes, then records `announced.json`.
 * A delivery that finds a live claim waits for it to end; one that finds a
 * claim older than the lease with no announcement takes the next number and
 * publishes (its holder died between claiming and publishing). Only a
 * process that dies in the instant after Pub/Sub accepted the message and
 * before `announced.json` is written leaves a second, identical
 * announcement to follow after the lease.
 */
export async function announceOnce(
  store: ObjectStore,
  message: BackupCompleted,
  publish: (message: BackupCompleted) => Promise<void>,
  options: { deadline: Deadline; leaseMs?: number },
): Promise<'published' | 'already-announced'> {
  const { cluster, backupId } = message;
  const leaseMs = options.leaseMs ?? ANNOUNCE_LEASE_MS;
  const announced = Layout.announced(cluster, backupId);
  for (;;) {
    if (await store.exists(announced)) return 'already-announced';
    let n = 0;
    while (await store.exists(Layout.announceClaim(cluster, backupId, n + 1))) n++;
    if (n > 0) {
      const claim = await readClaim(store, Layout.announceClaim(cluster, backupId, n));
      const ends = claim.released ? 0 : Date.parse(claim.claimedAt) + leaseMs;
      if (Date.now() < ends) {
        if (ends > options.deadline.at) {
          throw new TransientError(
            `the announcement of backup ${backupId} is claimed by another invocation until ${new Date(ends).toISOString()}; asking for a later delivery`,
          );
        }
        // The lease ends before the deadline, so this is the whole wait.
        await options.deadline.sleep(ends - Date.now());
        continue;
      }
    }
    const mine = Layout.announceClaim(cluster, backupId, n + 1);
    const body: Claim = { claimedAt: new Date().toISOString() };
    if (!(await store.createIfAbsent(mine, JSON.stringify(body)))) continue;
    try {
      await publish(message);
    } catch (error) {
      // Given up at once, so that the redelivery does not wait out the lease.
      const release: Claim = { claimedAt: body.claimedAt, released: true };
      await store
        .createIfAbsent(Layout.announceClaim(cluster, backupId, n + 2), JSON.stringify(release))
        .catch(() => false);
      throw error;
    }
    await store.createIfAbsent(announced, JSON.stringify(message));
    return 'published';
  }
}

async function readClaim(store: ObjectStore, key: string): Promise<Claim> {
  const body = await store.get(key);
  try {
    const claim = JSON.parse(body.toString('utf8')) as Partial<Claim>;
    if (typeof claim.claimedAt === 'string' && !Number.isNaN(Date.parse(claim.claimedAt)))
      return { claimedAt: claim.claimedAt, ...(claim.released ? { released: true } : {}) };
  } catch {
    // unreadable: treated as a claim long over, so the backup is still announced
  }
  return { claimedAt: new Date(0).toISOString() };
}
