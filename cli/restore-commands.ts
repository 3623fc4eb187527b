import { Option, type Command } from 'commander';
import { act } from './exit-codes.js';
import { inProcessOptions, outputOption, pipelineOptions, storeOption } from './options.js';
import { restoreFilterOptions, type RestoreFlags } from './restore-flags.js';
import type { RestoreInspectFlags } from './restore-inspect.js';
import { subcommand } from './subcommand.js';

/** `lifeboat restore create|get|describe`. */
export function registerRestoreCommands(program: Command): void {
  const restore = program.command('restore').description('restore backups and inspect restores');

  subcommand(restore, 'create', {
    description:
      'restore a backup: in-process into a kubeconfig context, or --pipeline through the deployed pipeline',
    arguments: [['[name]', 'restore name (default: <backup>-<yyyymmddhhmmss>)']],
    options: [
      new Option('--from-backup <name>', 'the backup to restore').makeOptionMandatory(),
      ...inProcessOptions({
        kubeconfig: 'of the target cluster',
        context: 'to restore into',
        computeEndpoint: 'disks from snapshots (default: $LIFEBOAT_COMPUTE_ENDPOINT)',
      }),
      new Option(
        '--source-cluster <project/location/name>',
        'the cluster the backup is of, when several have a backup of that name (required with --pipeline and no --store)',
      ),
      new Option(
        '--pipeline',
        'publish the restore to the deployed pipeline and follow it to completion',
      ),
      new Option(
        '--target-cluster <project/location/name>',
        'with --pipeline: the cluster to restore into',
      ),
      new Option(
        '--plan <name>',
        'with --pipeline: the deployed restore plan that allows this restore and decides its options',
      ),
      ...restoreFilterOptions(),
      ...pipelineOptions(true),
      outputOption(),
    ],
  }).action(
    act(async (name: string | undefined, flags: RestoreFlags) =>
      flags.pipeline
        ? (await import('./restore-pipeline.js')).createRestoreThroughPipeline(name, flags)
        : (await import('./restore-create.js')).createRestoreInProcess(name, flags),
    ),
  );

  subcommand(restore, 'get', {
    description: 'list restores in the store',
    options: [storeOption(), outputOption()],
  }).action(
    act(async (flags: RestoreInspectFlags) =>
      (await import('./restore-inspect.js')).getRestores(flags),
    ),
  );

  subcommand(restore, 'describe', {
    description: "show a restore's report: counts, volumes, and each object that needs attention",
    arguments: [['<name>', 'restore name']],
    options: [
      storeOption(),
      new Option('--details', 'list every object and its outcome'),
      outputOption(),
    ],
  }).action(
    act(async (name: string, flags: RestoreInspectFlags) =>
      (await import('./restore-inspect.js')).describeRestore(name, flags),
    ),
  );
}
