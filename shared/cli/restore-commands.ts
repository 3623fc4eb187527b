import type { Command } from 'commander';
import { act } from './exit-codes.js';
import {
  keyFileOption,
  kmsKeyOption,
  outputOption,
  pipelineOptions,
  storeOption,
} from './options.js';
import { restoreFilterOptions, type RestoreFlags } from './restore-flags.js';
import type { RestoreInspectFlags } from './restore-inspect.js';

/** `lifeboat restore create|get|describe`. */
export function registerRestoreCommands(program: Command): void {
  const restore = program.command('restore').description('restore backups and inspect restores');

  const create = restore
    .command('create')
    .description(
      'restore a backup: in-process into a kubeconfig context, or --pipeline through the deployed pipeline',
    )
    .argument('[name]', 'restore name (default: <backup>-<yyyymmddhhmmss>)')
    .requiredOption('--from-backup <name>', 'the backup to restore')
    .option('--kubeconfig <file>', 'kubeconfig of the target cluster (default: $KUBECONFIG)')
    .option('--context <context>', 'kubeconfig context to restore into (default: the current one)')
    .addOption(storeOption())
    .addOption(keyFileOption())
    .addOption(kmsKeyOption())
    .option(
      '--compute-endpoint <url>',
      'Compute Engine API endpoint for disks from snapshots (default: $LIFEBOAT_COMPUTE_ENDPOINT)',
    )
    .option(
      '--source-cluster <project/location/name>',
      'the cluster the backup is of, when several have a backup of that name (required with --pipeline and no --store)',
    )
    .option(
      '--pipeline',
      'publish the restore to the deployed pipeline and follow it to completion',
    )
    .option(
      '--target-cluster <project/location/name>',
      'with --pipeline: the cluster to restore into',
    )
    .option(
      '--plan <name>',
      'with --pipeline: the deployed restore plan that allows this restore and decides its options',
    );
  for (const o of [...restoreFilterOptions(), ...pipelineOptions(true), outputOption()]) {
    create.addOption(o);
  }
  create.action(
    act(async (name: string | undefined, flags: RestoreFlags) =>
      flags.pipeline
        ? (await import('./restore-pipeline.js')).createRestoreThroughPipeline(name, flags)
        : (await import('./restore-create.js')).createRestoreInProcess(name, flags),
    ),
  );

  restore
    .command('get')
    .description('list restores in the store')
    .addOption(storeOption())
    .addOption(outputOption())
    .action(
      act(async (flags: RestoreInspectFlags) =>
        (await import('./restore-inspect.js')).getRestores(flags),
      ),
    );

  restore
    .command('describe')
    .description("show a restore's report: counts, volumes, and each object that needs attention")
    .argument('<name>', 'restore name')
    .addOption(storeOption())
    .option('--details', 'list every object and its outcome')
    .addOption(outputOption())
    .action(
      act(async (name: string, flags: RestoreInspectFlags) =>
        (await import('./restore-inspect.js')).describeRestore(name, flags),
      ),
    );
}
