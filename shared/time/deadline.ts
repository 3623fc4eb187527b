import { formatDuration } from './duration.js';

/**
 * Time, injectable: a test of "stuck past the deadline" should not need to
 * wait minutes, and production code should not read Date.now() directly.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/**
 * A point in time after which waiting is pointless. A Cloud Function is
 * stopped after 9 minutes, so every wait (operation, READY status) must end
 * inside the invocation with a clear reason rather than be killed mid-way.
 */
export class Deadline {
  private constructor(
    readonly at: number,
    readonly budgetMs: number,
    readonly clock: Clock,
  ) {}

  static after(ms: number, clock: Clock = systemClock): Deadline {
    return new Deadline(clock.now() + ms, ms, clock);
  }

  /** No deadline: a wait bounded only by what it waits for (a whole restore run in one process). */
  static none(clock: Clock = systemClock): Deadline {
    return new Deadline(Infinity, Infinity, clock);
  }

  /** The deadline at `epochMs` (ms since the epoch), its budget counted from now. */
  static at(epochMs: number, clock: Clock = systemClock): Deadline {
    return new Deadline(epochMs, Math.max(0, epochMs - clock.now()), clock);
  }

  /**
   * A deadline at `at` of a wait that began at `since` (an earlier
   * invocation, say): "after 8m" then counts from `since`.
   */
  static until(at: number, since: number, clock: Clock = systemClock): Deadline {
    return new Deadline(at, Math.max(0, at - since), clock);
  }

  /**
   * This deadline, or `ms` from now when that is later: the least a piece of
   * work is given however late it begins (its budget counted from now).
   */
  atLeast(ms: number): Deadline {
    return Deadline.at(Math.max(this.at, this.clock.now() + ms), this.clock);
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.clock.now());
  }

  expired(): boolean {
    return this.remainingMs() === 0;
  }

  /** Sleeps for `ms` or until the deadline, whichever comes first. */
  async sleep(ms: number): Promise<void> {
    await this.clock.sleep(Math.min(ms, this.remainingMs()));
  }

  /** "30s" for messages such as "not READY within 30s". */
  describe(): string {
    return formatDuration(this.budgetMs);
  }
}
