import { randomBytes } from 'node:crypto';
import { runDurability, type DurabilitySummary } from './durability-model.js';
import { http } from './bench-env.js';

/** The durability lifecycle at a size beyond the test's: one JSON line, catalogs_lost must be 0. */
export async function durabilityBench(
  sequences: number,
  seed: number,
): Promise<DurabilitySummary & { name: string; seconds: number }> {
  const started = Date.now();
  const summary = await runDurability({
    seed,
    sequences,
    restoreEvery: 5,
    tag: randomBytes(3).toString('hex'),
    source: http('source'),
    target: http('target'),
  });
  if (summary.failure) process.exitCode = 1;
  return { name: 'durability', ...summary, seconds: (Date.now() - started) / 1000 };
}
