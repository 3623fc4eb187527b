import type { Command } from 'commander';
import { act } from './exit-codes.js';
import {
  keyFileOption,
  kmsKeyOption,
  outputOption,
  pipelineOptions,
  storeOption,
} from './options.js';
import type { ScheduleFlags } from './schedule-run.js';

/** `lifeboat schedule run`. */
export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('run backup policies');

  const run = schedule
    .command('run')
    .description(
      "do now what a policy's scheduler tick does: back up every cluster it selects (in-process: every selected kubeconfig context; --pipeline: publish the tick)",
    )
    .requiredOption('--policy <file>', 'the backup policy (YAML or JSON)')
    .option(
      '--kubeconfig <file>',
      'kubeconfig whose contexts are the clusters (default: $KUBECONFIG)',
    )
    .addOption(storeOption())
    .addOption(keyFileOption())
    .addOption(kmsKeyOption())
    .option(
      '--compute-endpoint <url>',
      'Compute Engine API endpoint for disk snapshots (default: $LIFEBOAT_COMPUTE_ENDPOINT)',
    )
    .option(
      '--pipeline',
      'publish a ScheduleTick to the deployed pipeline and print its message id',
    );
  for (const o of [...pipelineOptions(false), outputOption()]) run.addOption(o);
  run.action(
    act(async (flags: ScheduleFlags) => {
      const run = await import('./schedule-run.js');
      return flags.pipeline ? run.scheduleThroughPipeline(flags) : run.scheduleInProcess(flags);
    }),
  );
}
