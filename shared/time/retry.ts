import type { Deadline } from './deadline.js';

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
