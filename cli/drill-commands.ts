import { Option, type Command } from 'commander';
import { act } from './exit-codes.js';
import {
  addOptions,
  inProcessOptions,
  outputOption,
  pipelineOptions,
  storeOption,
} from './options.js';
import type { DrillInspectFlags } from './drill-inspect.js';
import type { DrillPipelineFlags } from './drill-pipeline.js';

/** `lifeboat drill run|get|describe`. */
export function registerDrillCommands(program: Command): void {
  const drill = program
    .command('drill')
    .description('prove backups restorable: restore into a drill cluster, verify, clean up');

  const run = drill
    .command('run')
    .description(
      "drill the latest Completed backup of each cluster a drill policy selects: in-process into the policy's drill cluster, or --pipeline through the deployed drill function",
    )
    .requiredOption('--policy <file>', 'drill policy, YAML or JSON')
    .option(
      '--cluster <project/location/name>',
      'drill only this cluster (required with --pipeline)',
    )
    .option('--backup <name>', "drill this backup instead of the cluster's latest (with --cluster)")
    .option('--id <id>', 'drill id (default: yymmddhhmmss of now)');
  addOptions(run, [
    ...inProcessOptions({
      kubeconfig: 'of the drill cluster',
      context: 'of the drill cluster',
      computeEndpoint: 'disks from snapshots (default: $LIFEBOAT_COMPUTE_ENDPOINT)',
    }),
    new Option(
      '--pipeline',
      'publish the drill to the deployed pipeline (the policy must be a deployed one) and follow it to its verdict',
    ),
    ...pipelineOptions(true),
    outputOption(),
  ]);
  run.action(
    act(async (flags: DrillPipelineFlags) =>
      flags.pipeline
        ? (await import('./drill-pipeline.js')).runDrillThroughPipeline(flags)
        : (await import('./drill-run.js')).runDrillsInProcess(flags),
    ),
  );

  addOptions(drill.command('get').description('list drills in the store, newest first'), [
    storeOption(),
    outputOption(),
  ]).action(
    act(async (flags: DrillInspectFlags) => (await import('./drill-inspect.js')).getDrills(flags)),
  );

  addOptions(
    drill
      .command('describe')
      .description("show a drill's report: verdict and reasons, RTO, objects, volumes, cleanup")
      .argument('<name>', 'drill id'),
    [storeOption(), outputOption()],
  ).action(
    act(async (name: string, flags: DrillInspectFlags) =>
      (await import('./drill-inspect.js')).describeDrill(name, flags),
    ),
  );
}
