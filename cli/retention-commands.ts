import type { Command } from 'commander';
import { act } from './exit-codes.js';
import { outputOption, storeOption } from './options.js';
import type { RetentionFlags } from './retention-run.js';

/** `lifeboat retention run`. */
export function registerRetentionCommands(program: Command): void {
  const retention = program
    .command('retention')
    .description('expire backups and collect what nothing references');

  retention
    .command('run')
    .description(
      'do now what the retention function does: expire backups per their policy, then delete the packs and snapshots ' +
        'nothing references; exit 1 when a catalog is unreadable, collection was held, a kept backup is no longer ' +
        'restorable or a delete failed',
    )
    .addOption(storeOption())
    .option('--dry-run', 'decide and report what would expire; delete nothing')
    .option(
      '--compute-endpoint <url>',
      'Compute Engine API endpoint to delete snapshots with (default: $LIFEBOAT_COMPUTE_ENDPOINT; ' +
        'https://compute.googleapis.com for the real API); without one, unreferenced snapshots are reported, not deleted',
    )
    .addOption(outputOption())
    .action(
      act(async (flags: RetentionFlags) =>
        (await import('./retention-run.js')).runRetention(flags),
      ),
    );
}
