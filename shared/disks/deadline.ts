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

  /**
   * A deadline at `at` of a wait that began at `since` (an earlier
   * invocation, say): "after 8m" then counts from `since`.
   */
  static until(at: number, since: number, clock: Clock = systemClock): Deadline {
    return new Deadline(at, Math.max(0, at - since), clock);
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

export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Parses "500ms", "30s", "2m", "1h" or a bare number of seconds (Velero's
 * hook timeout annotations accept Go durations; these are the common forms).
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit] ?? 1000;
  return Math.round(value * factor);
}
