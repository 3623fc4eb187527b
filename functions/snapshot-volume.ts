import { readPlanOf } from '../shared/backup/parts.js';
import { snapshotVolume } from '../shared/backup/backup-volume.js';
import { PermanentError } from '../shared/errors.js';
import { parseMessage, partDone, type VolumeSnapshotJob } from '../shared/messages/index.js';
import { register } from './handle.js';

/**
 * Captures one persistent volume (each disk its own invocation) and reports
 * its part. A snapshot still being made when the invocation's budget runs
 * out is handed over: the job is published again, carrying when its first
 * attempt began, and the next invocation adopts the snapshot by its name.
 * Deployed as snapshotDisks, the name deployments know.
 */
register(
  'snapshotDisks',
  (json) => parseMessage('VolumeSnapshotJob', json),
  async (job, { runtime, deadline, log }) => {
    // Only a volume the plan lists, under the plan's policy: a message cannot add a disk.
    const plan = await readPlanOf(runtime.store, job, `VolumeSnapshotJob ${job.pvName}`);
    if (!plan.volumes.includes(job.pvName)) {
      throw new PermanentError(
        `VolumeSnapshotJob of backup ${job.backupId}: the plan has no volume ${job.pvName}; refused`,
      );
    }
    const kubeConfig = await runtime.inventory.connect(job.cluster);
    const result = await snapshotVolume(
      kubeConfig,
      { store: runtime.store, disks: runtime.disks },
      job,
      deadline,
    );
    if ('handover' in result) {
      const { firstAttemptAt, hookResults, reason } = result.handover;
      const next: VolumeSnapshotJob = {
        ...job,
        firstAttemptAt,
        handovers: (job.handovers ?? 0) + 1,
        hookResults,
      };
      // If this publish fails, the error is transient and Pub/Sub redelivers this job instead.
      await runtime.bus.publish(runtime.topic('disk-snapshots'), next);
      log.info(
        { backupId: job.backupId, pvName: job.pvName, handovers: next.handovers, reason },
        'snapshotDisks: the snapshot is not finished; handed over to a later invocation',
      );
      return;
    }
    const { part } = result;
    await runtime.bus.publish(
      runtime.topic('backup-parts'),
      partDone(job, {
        partId: `volume/${job.pvName}`,
        partKind: 'volume',
        ok: part.errors.length === 0,
        ...(part.errors.length ? { error: part.errors.join('; ') } : {}),
      }),
    );
  },
);
