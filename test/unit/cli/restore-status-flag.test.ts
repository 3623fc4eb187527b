import { strict as assert } from 'node:assert';
import { Command } from 'commander';
import { UsageError } from '../../../cli/exit-codes.js';
import {
  restoreFilterOptions,
  restoreNarrowingFrom,
  restoreOptionsFrom,
  type RestoreFlags,
} from '../../../cli/restore-flags.js';

/** The flags as commander parses them from a command line. */
function parse(argv: string[]): RestoreFlags {
  const command = new Command().exitOverride();
  for (const o of restoreFilterOptions()) command.addOption(o);
  command.parse(argv, { from: 'user' });
  return { ...command.opts(), fromBackup: 'b1', output: 'table', topicPrefix: 'lifeboat-' };
}

describe('restore --no-restore-status', () => {
  it("leaves custom resources' status out only when given; absent keeps old options unchanged", () => {
    assert.equal('restoreStatus' in restoreOptionsFrom(parse([])), false);
    assert.equal(restoreOptionsFrom(parse(['--no-restore-status'])).restoreStatus, false);
  });

  it('is the plan’s to decide with --pipeline', () => {
    assert.doesNotThrow(() => restoreNarrowingFrom(parse([])));
    assert.throws(
      () => restoreNarrowingFrom(parse(['--no-restore-status'])),
      (e: unknown) => e instanceof UsageError && /--no-restore-status/.test(e.message),
    );
  });
});
