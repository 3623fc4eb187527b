import { Option, type Command } from 'commander';
import type { BackupDiffFlags } from './backup-diff-command.js';
import type { BackupInspectFlags } from './backup-inspect.js';
import type { BackupPipelineFlags } from './backup-pipeline.js';
import { act } from './exit-codes.js';
import {
  backupLookupOptions,
  inProcessOptions,
  keyOptions,
  outputOption,
  pipelineOptions,
} from './options.js';
import { subcommand } from './subcommand.js';

function filterOptions(): Option[] {
  return [
    new Option(
      '--include-namespaces <list>',
      'namespaces to back up, comma-separated (globs; default *)',
    ),
    new Option('--exclude-namespaces <list>', 'namespaces to leave out'),
    new Option(
      '--include-resources <list>',
      'resources to back up (configmaps, deployments.apps; default *)',
    ),
    new Option('--exclude-resources <list>', 'resources to leave out (e.g. secrets)'),
    new Option(
      '--selector <selector>',
      'back up only objects matching this label selector (app=web)',
    ),
    new Option(
      '--include-cluster-resources [mode]',
      'cluster-scoped resources: auto (only when every namespace is taken), true, false',
    )
      .choices(['auto', 'true', 'false'])
      .preset('true'),
    new Option(
      '--snapshot-volumes [bool]',
      'snapshot persistent volumes (--snapshot-volumes=false: restore reuses the recorded volume handles)',
    ).preset('true'),
  ];
}

/** `lifeboat backup create|get|describe|logs|diff`. */
export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('create and inspect backups');

  subcommand(backup, 'create', {
    description:
      'back up a cluster: in-process from a kubeconfig context, or --pipeline through the deployed pipeline',
    arguments: [['<name>', 'backup name: a lowercase RFC 1123 label']],
    options: [
      ...inProcessOptions({
        kubeconfig: 'of the cluster',
        context: 'to back up',
        computeEndpoint: 'disk snapshots (default: $LIFEBOAT_COMPUTE_ENDPOINT, else the real API)',
      }),
      new Option(
        '--policy <file>',
        'a backup policy (YAML or JSON); filter flags override its filters',
      ),
      new Option(
        '--pipeline',
        'publish the backup to the deployed pipeline and follow it to completion',
      ),
      new Option('--cluster <project/location/name>', 'with --pipeline: the cluster to back up'),
      ...filterOptions(),
      ...pipelineOptions(true),
      outputOption(),
    ],
  }).action(
    act(async (name: string, flags: BackupPipelineFlags) =>
      flags.pipeline
        ? (await import('./backup-pipeline.js')).createBackupThroughPipeline(name, flags)
        : (await import('./backup-create.js')).createBackupInProcess(name, flags),
    ),
  );

  subcommand(backup, 'get', {
    description: 'list backups of every cluster in the store',
    arguments: [['[names...]', 'only these backups']],
    options: [...backupLookupOptions(), outputOption()],
  }).action(
    act(async (names: string[], flags: BackupInspectFlags) =>
      (await import('./backup-inspect.js')).getBackups(names, flags),
    ),
  );

  subcommand(backup, 'describe', {
    description: "show a backup's catalog: cluster, phase, counts, resources, volumes, errors",
    arguments: [['<name>', 'backup name']],
    options: [
      ...backupLookupOptions(),
      new Option('--details', 'also list every object (reads and verifies the packs)'),
      outputOption(),
    ],
  }).action(
    act(async (name: string, flags: BackupInspectFlags) =>
      (await import('./backup-inspect.js')).describeBackup(name, flags),
    ),
  );

  subcommand(backup, 'logs', {
    description: "show a backup's record: its plan, each shard's and each volume's outcome",
    arguments: [['<name>', 'backup name']],
    options: [...backupLookupOptions(), outputOption()],
  }).action(
    act(async (name: string, flags: BackupInspectFlags) =>
      (await import('./backup-logs.js')).backupLogs(name, flags),
    ),
  );

  subcommand(backup, 'diff', {
    description:
      'what changed between two backups: objects added, removed and changed, field by field (Secret values never shown)',
    arguments: [
      ['<from>', 'the older backup'],
      ['<to>', 'the newer backup'],
    ],
    options: [...backupLookupOptions(), ...keyOptions(), outputOption()],
  }).action(
    act(async (from: string, to: string, flags: BackupDiffFlags) =>
      (await import('./backup-diff-command.js')).diffCommand(from, to, flags),
    ),
  );
}
