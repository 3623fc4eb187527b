import { Option, type Command } from 'commander';
import { act } from './exit-codes.js';
import { inProcessOptions, outputOption, pipelineOptions } from './options.js';
import type { ScheduleFlags } from './schedule-run.js';
import { subcommand } from './subcommand.js';

/** `lifeboat schedule run`. */
export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('run backup policies');

  subcommand(schedule, 'run', {
    description:
      "do now what a policy's scheduler tick does: back up every cluster it selects (in-process: every selected kubeconfig context; --pipeline: publish the tick)",
    options: [
      new Option('--policy <file>', 'the backup policy (YAML or JSON)').makeOptionMandatory(),
      ...inProcessOptions({
        kubeconfig: 'whose contexts are the clusters',
        computeEndpoint: 'disk snapshots (default: $LIFEBOAT_COMPUTE_ENDPOINT)',
      }),
      new Option(
        '--pipeline',
        'publish a ScheduleTick to the deployed pipeline and print its message id',
      ),
      ...pipelineOptions(false),
      outputOption(),
    ],
  }).action(
    act(async (flags: ScheduleFlags) => {
      const run = await import('./schedule-run.js');
      return flags.pipeline ? run.scheduleThroughPipeline(flags) : run.scheduleInProcess(flags);
    }),
  );
}
