import { API_VERSION } from '../shared/messages/index.js';
import { startLocalLifeboat } from '../local/local-lifeboat.js';
import { Inbox } from '../local/inbox.js';
import { emit, seconds } from './bench-env.js';
import { measureListing, startFleet } from './fanout-standin.js';

/**
 * A schedule tick through the real pipeline (enumerateClusters in a
 * Functions Framework server behind a push subscription on the emulator)
 * against a Container API stand-in serving N clusters: the time from
 * publishing the tick to receiving the last backup job.
 */
export async function fanoutBench(clusters: number): Promise<Record<string, unknown>> {
  const fleet = await startFleet(clusters);
  const lb = await startLocalLifeboat({
    functions: ['enumerateClusters'],
    containerEndpoint: fleet.standin.url,
    logLevel: 'warn',
    // The tick below names the fleet policy: it must be the deployed one, or it is refused.
    deployment: { backupPolicies: [fleet.policy] },
  });
  try {
    const jobs = await Inbox.open(
      lb.bus,
      lb.pipeline.topic('backup-jobs'),
      `${lb.topicPrefix}bench-jobs`,
    );
    const listing = await measureListing(fleet);
    emit({ event: 'listing', ...listing });
    const started = performance.now();
    await lb.bus.publish(lb.pipeline.topic('schedule'), {
      apiVersion: API_VERSION,
      kind: 'ScheduleTick',
      policy: fleet.policy,
      scheduledTime: '2026-11-26T02:00:00Z',
    });
    await jobs.waitFor(
      () => jobs.messages.length >= fleet.running,
      120_000,
      `${fleet.running} backup jobs`,
    );
    const elapsed = seconds(performance.now() - started);
    const ids = new Set(jobs.messages.map((m) => JSON.stringify(m['cluster'])));
    await jobs.close();
    return {
      bench: 'fanout',
      clusters,
      jobs: jobs.messages.length,
      distinct_clusters: ids.size,
      skipped_not_running: clusters - fleet.running,
      tick_to_last_job_s: elapsed,
      jobs_per_s: Math.round(jobs.messages.length / elapsed),
      target_s: 5,
    };
  } finally {
    await lb.stop();
    await fleet.standin.stop();
  }
}
