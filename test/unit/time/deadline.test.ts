import { strict as assert } from 'node:assert';
import { type Clock, Deadline } from '../../../shared/time/deadline.js';
import { FLAG_DURATION, formatDuration, parseDuration } from '../../../shared/time/duration.js';

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

  it('says "no deadline" as one that never expires, and gives late work its least time', () => {
    let now = 1000;
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    };
    const none = Deadline.none(clock);
    assert.equal(none.at, Infinity);
    assert.equal(none.expired(), false);
    assert.equal(none.atLeast(5000).at, Infinity);
    const deadline = Deadline.after(300, clock);
    assert.equal(deadline.atLeast(100).at, 1300, 'a later deadline stays as it is');
    now = 1250;
    const late = deadline.atLeast(1000);
    assert.equal(late.at, 2250, 'work begun late gets its least time from now');
    assert.equal(late.describe(), '1s');
    now = 5000;
    assert.equal(deadline.atLeast(0).at, 5000, 'a passed deadline moves up to now');
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

  it('reads flags in their strict form: a whole number, its unit, above zero', () => {
    assert.equal(parseDuration('90s', FLAG_DURATION), 90_000);
    assert.equal(parseDuration(' 30m ', FLAG_DURATION), 1_800_000);
    assert.equal(parseDuration('500ms', FLAG_DURATION), 500);
    assert.equal(parseDuration('0s', FLAG_DURATION), undefined);
    assert.equal(parseDuration('45', FLAG_DURATION), undefined);
    assert.equal(parseDuration('1.5s', FLAG_DURATION), undefined);
    assert.equal(parseDuration('30 s', FLAG_DURATION), undefined);
  });
});
