/**
 * `npm run bench -- <name> [--objects N]`: prints JSON lines, the last one
 * the summary. Figures are ratios against a floor or a peer measured in the
 * same run, since timings on shared machines are noisy.
 */
import { Command, InvalidArgumentError } from 'commander';
import { emit } from './bench-env.js';
import { exportBench } from './export-bench.js';
import { restoreBench } from './restore-bench.js';
import { fanoutBench } from './fanout-bench.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const program = new Command('bench').description('Lifeboat benchmarks').exitOverride();
program
  .command('export')
  .description('export time against a bare paginated LIST; memory; incremental bytes')
  .option('--objects <n>', 'objects to seed', positiveInt, 2000)
  .action(async (o: { objects: number }) => emit(await exportBench(o.objects)));
program
  .command('restore')
  .description('restore time against kubectl apply -f of the same manifests')
  .option('--objects <n>', 'objects to seed', positiveInt, 2000)
  .action(async (o: { objects: number }) => emit(await restoreBench(o.objects)));

program
  .command('fanout')
  .description('schedule tick to the last backup job, through the pipeline, for N clusters')
  .option('--clusters <n>', 'clusters the Container API stand-in serves', positiveInt, 1000)
  .action(async (o: { clusters: number }) => emit(await fanoutBench(o.clusters)));

try {
  await program.parseAsync(process.argv);
  process.exit(0);
} catch (error) {
  const code = (error as { exitCode?: number }).exitCode;
  if (code === 0) process.exit(0);
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
