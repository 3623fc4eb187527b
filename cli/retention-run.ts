import { sweep, type RetentionReport } from '../shared/pipeline/retention.js';
import { computeEndpointFrom, computeOptions, gceSnapshotter, storeFrom } from './connect.js';
import { ExitCode } from './exit-codes.js';
import type { OutputFormat } from './options.js';
import { emit } from './output.js';
import { clusterOfKey, formatRetention } from './retention-view.js';

export interface RetentionFlags {
  store?: string;
  dryRun?: boolean;
  computeEndpoint?: string;
  output: OutputFormat;
}

/**
 * `retention run`: the retention sweep, in-process. A store the sweep
 * refuses (keys it does not know, a newer layout) throws before anything
 * is deleted: one line, exit 1. Otherwise exit 1 when anything needs a
 * person (each said on stderr), 0 when the sweep did all it had to.
 */
export async function runRetention(flags: RetentionFlags): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const endpoint = computeEndpointFrom(flags.computeEndpoint);
  const compute = endpoint ? computeOptions(endpoint) : undefined;
  // No endpoint, no snapshotter: the sweep then reports the snapshots it could not delete.
  const disks = compute && !flags.dryRun ? await gceSnapshotter(compute) : undefined;
  try {
    const report = await sweep(store, disks, { dryRun: flags.dryRun ?? false });
    emit(flags.output, { store: store.url, ...report }, () => formatRetention(report, store.url));
    const problems = retentionProblems(report);
    for (const p of problems) process.stderr.write(`lifeboat: ${p}\n`);
    return problems.length > 0 ? ExitCode.NotFullSuccess : ExitCode.Ok;
  } finally {
    await disks?.close();
  }
}

/** What a person has to look at, one line each. */
export function retentionProblems(r: RetentionReport): string[] {
  return [
    ...r.unreadable.map(
      (u) =>
        `catalog of backup "${u.backupId}" of ${clusterOfKey(u.cluster)} is unreadable: ${u.reason}`,
    ),
    ...r.held.map((h) => `held: ${h}`),
    ...r.unrestorable.map(
      (u) =>
        `backup "${u.backupId}" of ${clusterOfKey(u.cluster)} is no longer restorable: ${u.reason}`,
    ),
    ...r.errors,
  ];
}
