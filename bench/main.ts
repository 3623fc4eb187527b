/**
 * `npm run bench -- <name> [--objects N]`: prints JSON lines, the last one
 * the summary. Figures are ratios against a floor or a peer measured in the
 * same run, since timings on shared machines are noisy.
 */
import { Command, InvalidArgumentError } from 'commander';
import { emit } from './bench-env.js';
import { exportBench, namespaceOnlyBench } from './export-bench.js';
import { RESTORE_PEERS, restoreBench, type RestorePeers } from './restore-bench.js';
import { fanoutBench } from './fanout-bench.js';
import { durabilityBench } from './durability-bench.js';
import { veleroBench } from './velero-bench.js';
import { uiBench } from './ui-bench.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function peers(value: string): RestorePeers {
  const known = RESTORE_PEERS.find((p) => p === value);
  if (!known) throw new InvalidArgumentError(`must be one of ${RESTORE_PEERS.join(', ')}`);
  return known;
}

const program = new Command('bench').description('Lifeboat benchmarks').exitOverride();
program
  .command('export')
  .description('export time against a bare paginated LIST; memory; incremental bytes')
  .option('--objects <n>', 'objects to seed', positiveInt, 2000)
  .option('--namespace-only', 'back up one small namespace: full cluster against an empty one')
  .action(async (o: { objects: number; namespaceOnly?: boolean }) =>
    emit(await (o.namespaceOnly ? namespaceOnlyBench(o.objects) : exportBench(o.objects))),
  );
program
  .command('restore')
  .description(
    'restore time and peak RSS (128 MiB heap); against bare parallel POSTs and kubectl apply (client- and server-side)',
  )
  .option('--objects <n>', 'objects to seed', positiveInt, 2000)
  .option(
    '--peers <peers>',
    `what else restores the same manifests: ${RESTORE_PEERS.join(' or ')}`,
    peers,
    'kubectl',
  )
  .action(async (o: { objects: number; peers: RestorePeers }) =>
    emit(await restoreBench(o.objects, o.peers)),
  );

program
  .command('fanout')
  .description('schedule tick to the last backup job, through the pipeline, for N clusters')
  .option('--clusters <n>', 'clusters the Container API stand-in serves', positiveInt, 1000)
  .action(async (o: { clusters: number }) => emit(await fanoutBench(o.clusters)));

program
  .command('durability')
  .description('random backup/retention/fault sequences; every catalog retention keeps must verify')
  .option('--sequences <n>', 'random sequences to run', positiveInt, 1000)
  .option('--seed <n>', 'seed (printed; the same seed replays the run)', positiveInt)
  .action(async (o: { sequences: number; seed?: number }) =>
    emit(await durabilityBench(o.sequences, o.seed ?? (Date.now() % 1_000_000) + 1)),
  );

program
  .command('velero')
  .description(
    "Lifeboat's backup and restore against Velero's (built from source), default and fast",
  )
  .option('--objects <n>', 'objects to seed', positiveInt, 2000)
  .option('--rounds <n>', 'rounds (medians reported)', positiveInt, 3)
  .action(async (o: { objects: number; rounds: number }) =>
    emit(await veleroBench(o.objects, o.rounds)),
  );

program
  .command('ui')
  .description(
    'first contentful paint of the cluster list and of one backup in Chromium, against the bare store reads',
  )
  .option('--backups <n>', 'backups to seed, over three clusters', positiveInt, 1000)
  .option(
    '--objects <n>',
    'objects in the newest backup of the largest cluster',
    positiveInt,
    100000,
  )
  .action(async (o: { backups: number; objects: number }) =>
    emit(await uiBench(o.backups, o.objects)),
  );

try {
  await program.parseAsync(process.argv);
  process.exit(process.exitCode ?? 0);
} catch (error) {
  const code = (error as { exitCode?: number }).exitCode;
  if (code === 0) process.exit(0);
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
