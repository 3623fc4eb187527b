import { strict as assert } from 'node:assert';
import {
  type Clock,
  Deadline,
  formatDuration,
  parseDuration,
} from '../../../shared/disks/deadline.js';

describe('Deadline and durations', () => {
  it('counts down on the clock it is given, and never sleeps past itself', async () => {
    let now = 1000;
    const slept: number[] = [];
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    };
    const deadline = Deadline.after(300, clock);
    assert.equal(deadline.remainingMs(), 300);
    await deadline.sleep(200);
    await deadline.sleep(200);
    assert.deepEqual(slept, [200, 100]);
    assert.equal(deadline.expired(), true);
    assert.equal(deadline.describe(), '300ms');
  });

  it('parses the durations hook annotations use', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('45'), 45_000);
    assert.equal(parseDuration('soon'), undefined);
    assert.equal(formatDuration(120_000), '2m');
    assert.equal(formatDuration(30_000), '30s');
  });
});
