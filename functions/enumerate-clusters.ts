import { mapLimit } from '../shared/concurrency.js';
import { parseMessage } from '../shared/messages/index.js';
import { backupJobsFor } from '../shared/pipeline/fan-out.js';
import { register } from './handle.js';

register(
  'enumerateClusters',
  (json) => parseMessage('ScheduleTick', json),
  async (carried, { runtime, publishTime }) => {
    // The schedule may name only a deployed policy, exactly as deployed.
    const tick = {
      ...carried,
      policy: runtime.deployment.checkPolicy(carried.policy, 'ScheduleTick'),
    };
    const listing = await runtime.inventory.list(tick.policy);
    for (const s of listing.skipped) {
      runtime.logger.warn(
        { cluster: s.cluster, reason: s.reason },
        'cluster selected by the policy but skipped',
      );
    }
    for (const u of listing.unlisted) {
      runtime.logger.error(
        { location: u, reason: u.reason },
        'clusters could not be listed here: a gap in this tick',
      );
    }
    const jobs = backupJobsFor(tick, listing, publishTime);
    await mapLimit(jobs, 100, (job) => runtime.bus.publish(runtime.topic('backup-jobs'), job));
    runtime.logger.info(
      { policy: tick.policy.name, jobs: jobs.length, skipped: listing.skipped.length },
      'backup jobs published',
    );
  },
);
