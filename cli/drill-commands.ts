import { Option, type Command } from 'commander';
import { act } from './exit-codes.js';
import { inProcessOptions, outputOption, pipelineOptions, storeOption } from './options.js';
import type { DrillInspectFlags } from './drill-inspect.js';
import type { DrillPipelineFlags } from './drill-pipeline.js';
import { subcommand } from './subcommand.js';

/** `lifeboat drill run|get|describe`. */
export function registerDrillCommands(program: Command): void {
  const drill = program
    .command('drill')
    .description('prove backups restorable: restore into a drill cluster, verify, clean up');

  subcommand(drill, 'run', {
    description:
      "drill the latest Completed backup of each cluster a drill policy selects: in-process into the policy's drill cluster, or --pipeline through the deployed drill function",
    options: [
      new Option('--policy <file>', 'drill policy, YAML or JSON').makeOptionMandatory(),
      new Option(
        '--cluster <project/location/name>',
        'drill only this cluster (required with --pipeline)',
      ),
      new Option(
        '--backup <name>',
        "drill this backup instead of the cluster's latest (with --cluster)",
      ),
      new Option('--id <id>', 'drill id (default: yymmddhhmmss of now)'),
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
    ],
  }).action(
    act(async (flags: DrillPipelineFlags) =>
      flags.pipeline
        ? (await import('./drill-pipeline.js')).runDrillThroughPipeline(flags)
        : (await import('./drill-run.js')).runDrillsInProcess(flags),
    ),
  );

  subcommand(drill, 'get', {
    description: 'list drills in the store, newest first',
    options: [storeOption(), outputOption()],
  }).action(
    act(async (flags: DrillInspectFlags) => (await import('./drill-inspect.js')).getDrills(flags)),
  );

  subcommand(drill, 'describe', {
    description: "show a drill's report: verdict and reasons, RTO, objects, volumes, cleanup",
    arguments: [['<name>', 'drill id']],
    options: [storeOption(), outputOption()],
  }).action(
    act(async (name: string, flags: DrillInspectFlags) =>
      (await import('./drill-inspect.js')).describeDrill(name, flags),
    ),
  );
}
