import { strict as assert } from 'node:assert';
import { rpoStatus, type BackupTimes } from '../../../shared/ui/rpo.js';

const HOUR = 3_600_000;
const at = (hoursAgo: number, now: number): string => new Date(now - hoursAgo * HOUR).toISOString();

function backup(
  hoursAgo: number,
  phase: BackupTimes['phase'],
  now: number,
  policy = 'hourly',
): BackupTimes {
  return { phase, startedAt: at(hoursAgo, now), policy: { name: policy } };
}

describe('ui: RPO and when it is overdue', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');

  it('is the time since the last Completed backup, within twice the interval', () => {
    const s = rpoStatus([backup(2, 'Completed', now), backup(1, 'Completed', now)], now);
    assert.equal(s.rpoMs, HOUR);
    assert.equal(s.allowedMs, 2 * HOUR);
    assert.equal(s.overdue, false);
  });

  it('is overdue when the last Completed backup is older than twice the interval', () => {
    // Hourly backups, but the last three failed: the last good data is 4 hours old.
    const s = rpoStatus(
      [
        backup(4, 'Completed', now),
        backup(3, 'Failed', now),
        backup(2, 'Failed', now),
        backup(1, 'PartiallyFailed', now),
      ],
      now,
    );
    assert.equal(s.rpoMs, 4 * HOUR);
    assert.equal(s.allowedMs, 2 * HOUR);
    assert.equal(s.overdue, true);
  });

  it('is overdue when backups stopped coming', () => {
    const s = rpoStatus([backup(26, 'Completed', now), backup(25, 'Completed', now)], now);
    assert.equal(s.overdue, true);
  });

  it("takes the interval from the newest backup's policy only", () => {
    const s = rpoStatus(
      [
        backup(30, 'Completed', now, 'nightly'),
        backup(6, 'Completed', now, 'nightly'),
        backup(5, 'Completed', now, 'hourly'),
      ],
      now,
    );
    assert.equal(s.allowedMs, undefined, 'one hourly backup: its schedule is unknown');
    assert.equal(s.overdue, false);
  });

  it('with no Completed backup at all is overdue, with no RPO', () => {
    const s = rpoStatus([backup(2, 'Failed', now), backup(1, 'Failed', now)], now);
    assert.equal(s.rpoMs, undefined);
    assert.equal(s.overdue, true);
    assert.match(s.reason, /no Completed backup/);
  });

  it('with no backups is not overdue', () => {
    assert.equal(rpoStatus([], now).overdue, false);
  });
});
