import { strict as assert } from 'node:assert';
import { type Clock, Deadline } from '../../../shared/time/deadline.js';
import { Backoff, poll } from '../../../shared/time/retry.js';

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
