import { parseMessage } from '../shared/messages/index.js';
import { sweep } from '../shared/pipeline/retention.js';
import { register } from './handle.js';

/** Expires backups and collects what nothing references any more. */
register(
  'retention',
  (json) => parseMessage('RetentionTick', json),
  async (tick, { runtime }) => {
    const sealing = await runtime.sealer();
    const report = await sweep(runtime.store, runtime.disks, {
      dryRun: tick.dryRun,
      ...(sealing ? { sealing } : {}),
    });
    runtime.logger.info(
      {
        expired: report.expired.length,
        kept: report.kept.length,
        finished: report.finished.length,
        unreadable: report.unreadable.length,
        held: report.held.length,
        unrestorable: report.unrestorable.length,
        deletedPacks: report.deletedPacks,
        deletedSnapshots: report.deletedSnapshots.length,
        errors: report.errors,
        dryRun: report.dryRun,
      },
      'retention sweep done',
    );
    // What the sweep could not read, and kept backups that lost a pack, need a person: ERROR, one entry each.
    for (const u of report.unreadable)
      runtime.logger.error(
        u,
        `catalog ${u.cluster}/${u.backupId} is unreadable; nothing was collected around it`,
      );
    for (const h of report.held) runtime.logger.error({ held: h }, `retention held: ${h}`);
    for (const u of report.unrestorable)
      runtime.logger.error(
        u,
        `backup ${u.cluster}/${u.backupId} is no longer restorable: ${u.reason}`,
      );
  },
);
