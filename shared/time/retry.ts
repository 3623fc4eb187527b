import { type Clock, type Deadline, systemClock } from './deadline.js';

/**
 * Delays between attempts that double from `firstMs` up to `maxMs`: the
 * backoff of a retried call, kept by its caller across attempts (and, with
 * a handover, across invocations) so each wait is decided where it is taken.
 */
export class Backoff {
  private delay: number;

  constructor(
    firstMs: number,
    private readonly maxMs: number,
  ) {
    this.delay = firstMs;
  }

  /** The wait before the next attempt. */
  get currentMs(): number {
    return this.delay;
  }

  /** After a wait: the next one is twice as long, within the maximum. */
  grow(): void {
    this.delay = Math.min(this.delay * 2, this.maxMs);
  }
}

/**
 * Looks at something until `look` returns a result or the deadline passes,
 * `intervalMs` apart (a wait never runs past the deadline). Returns the
 * result, or undefined when the deadline passed first. A look is always
 * taken at least once; `lookAtDeadline: false` takes none after a wait that
 * reached the deadline (a look then would be cut short anyway).
 */
export async function poll<T>(
  deadline: Deadline,
  intervalMs: number,
  look: () => Promise<T | undefined>,
  options: { lookAtDeadline?: boolean } = {},
): Promise<T | undefined> {
  const lookAtDeadline = options.lookAtDeadline ?? true;
  for (;;) {
    const result = await look();
    if (result !== undefined) return result;
    if (deadline.expired()) return undefined;
    await deadline.sleep(intervalMs);
    if (!lookAtDeadline && deadline.expired()) return undefined;
  }
}

/**
 * What a failed attempt means for the next one: none (false), one after the
 * policy's wait (true), or one at once, whatever the count ('at once': the
 * failure changed what the next attempt sends, such as another API version,
 * so it is not a repeat of the same call).
 */
export type RetryVerdict = boolean | 'at once';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The wait after failed attempt `n` (counted from 1) before the next. */
  delayMs: (n: number) => number;
  /** Asked after every failure, the last included (it may act on the error, as an 'at once' does). */
  retryable: (error: unknown, n: number) => RetryVerdict | Promise<RetryVerdict>;
  clock?: Clock;
}

/**
 * Calls `attempt` until it succeeds, its error is not retryable, or the
 * policy's attempts are spent; then the last error is thrown as it is.
 */
export async function retry<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  const clock = policy.clock ?? systemClock;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const verdict = await policy.retryable(error, n);
      if (verdict === 'at once') continue;
      if (!verdict || n >= policy.attempts) throw error;
      await clock.sleep(policy.delayMs(n));
    }
  }
}
