import { parseMessage } from '../shared/messages/index.js';
import { sweep } from '../shared/pipeline/retention.js';
import { register } from './handle.js';

/** Expires backups and collects what nothing references any more. */
register(
  'retention',
  (json) => parseMessage('RetentionTick', json),
  async (tick, { runtime }) => {
    const report = await sweep(runtime.store, runtime.disks, { dryRun: tick.dryRun });
    runtime.logger.info(
      {
        expired: report.expired.length,
        kept: report.kept.length,
        finished: report.finished.length,
        deletedPacks: report.deletedPacks,
        deletedSnapshots: report.deletedSnapshots.length,
        errors: report.errors,
        dryRun: report.dryRun,
      },
      'retention sweep done',
    );
  },
);
