import { strict as assert } from 'node:assert';
import { type Clock, Deadline } from '../../../shared/time/deadline.js';
import { Backoff, poll, retry, type RetryPolicy } from '../../../shared/time/retry.js';

/** A clock that moves only when slept on, recording each sleep. */
function steppedClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('Backoff and poll', () => {
  it('doubles the backoff up to its maximum', () => {
    const backoff = new Backoff(2000, 60_000);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      delays.push(backoff.currentMs);
      backoff.grow();
    }
    assert.deepEqual(delays, [2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('looks until a result, an interval apart', async () => {
    const clock = steppedClock();
    let looks = 0;
    const result = await poll(Deadline.after(10_000, clock), 300, async () =>
      ++looks === 3 ? 'ready' : undefined,
    );
    assert.equal(result, 'ready');
    assert.deepEqual(clock.slept, [300, 300]);
  });

  it('takes one last look at the deadline, unless told not to', async () => {
    const atDeadline = steppedClock();
    let looks = 0;
    const late = await poll(Deadline.after(500, atDeadline), 300, async () => {
      looks++;
      return undefined;
    });
    assert.equal(late, undefined);
    assert.deepEqual(atDeadline.slept, [300, 200], 'no wait runs past the deadline');
    assert.equal(looks, 3);

    const stopping = steppedClock();
    looks = 0;
    await poll(
      Deadline.after(500, stopping),
      300,
      async () => {
        looks++;
        return undefined;
      },
      { lookAtDeadline: false },
    );
    assert.equal(looks, 2);
  });
});

describe('retry', () => {
  const transient = new Error('transient');
  const fatal = new Error('fatal');

  it('retries a retryable failure after the policy’s wait for the attempt', async () => {
    const clock = steppedClock();
    const seen: number[] = [];
    const result = await retry(
      async (n) => {
        seen.push(n);
        if (n < 3) throw transient;
        return 'done';
      },
      { attempts: 5, delayMs: (n) => 200 * n, retryable: () => true, clock },
    );
    assert.equal(result, 'done');
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(clock.slept, [200, 400]);
  });

  /** Retries an attempt that always fails with `error`; says how often it was made and what was slept. */
  async function alwaysFailing(
    error: Error,
    policy: Pick<RetryPolicy, 'attempts' | 'retryable'>,
  ): Promise<{ calls: number; slept: number[] }> {
    const clock = steppedClock();
    let calls = 0;
    const failing = async (): Promise<never> => {
      calls++;
      throw error;
    };
    await assert.rejects(
      retry(failing, { ...policy, delayMs: () => 100, clock }),
      (e) => e === error,
    );
    return { calls, slept: clock.slept };
  }

  it('throws the last error once the attempts are spent, with no wait after it', async () => {
    const { calls, slept } = await alwaysFailing(transient, { attempts: 3, retryable: () => true });
    assert.equal(calls, 3);
    assert.deepEqual(slept, [100, 100]);
  });

  it('throws a failure that is not retryable at once', async () => {
    const { calls, slept } = await alwaysFailing(fatal, {
      attempts: 5,
      retryable: (e) => e !== fatal,
    });
    assert.equal(calls, 1);
    assert.deepEqual(slept, []);
  });

  it('makes an "at once" attempt without a wait, counted, and even past the last', async () => {
    const clock = steppedClock();
    const asked: number[] = [];
    const result = await retry(
      async (n) => {
        if (n < 4) throw transient;
        return n;
      },
      {
        attempts: 2,
        delayMs: (n) => 200 * n,
        // The first failure is retried after a wait; the second (the last attempt) and third at once.
        retryable: async (_e, n) => {
          asked.push(n);
          return n === 1 ? true : 'at once';
        },
        clock,
      },
    );
    assert.equal(result, 4);
    assert.deepEqual(asked, [1, 2, 3]);
    assert.deepEqual(clock.slept, [200]);
  });
});
