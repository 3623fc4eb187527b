import { readPlanOf } from '../shared/backup/parts.js';
import { snapshotVolume } from '../shared/backup/snapshot-volume.js';
import { PermanentError } from '../shared/errors.js';
import { API_VERSION, parseMessage } from '../shared/messages/index.js';
import { register } from './handle.js';

/** Captures one persistent volume (each disk its own invocation) and reports its part. */
register(
  'snapshotDisks',
  (json) => parseMessage('VolumeSnapshotJob', json),
  async (job, { runtime, deadline }) => {
    // Only a volume the plan lists, under the plan's policy: a message cannot add a disk.
    const plan = await readPlanOf(runtime.store, job, `VolumeSnapshotJob ${job.pvName}`);
    if (!plan.volumes.includes(job.pvName)) {
      throw new PermanentError(
        `VolumeSnapshotJob of backup ${job.backupId}: the plan has no volume ${job.pvName}; refused`,
      );
    }
    const kubeConfig = await runtime.inventory.connect(job.cluster);
    const part = await snapshotVolume(
      kubeConfig,
      { store: runtime.store, disks: runtime.disks },
      job,
      deadline,
    );
    await runtime.bus.publish(runtime.topic('backup-parts'), {
      apiVersion: API_VERSION,
      kind: 'PartDone',
      backupId: job.backupId,
      cluster: job.cluster,
      partId: `volume/${job.pvName}`,
      partKind: 'volume',
      ok: part.errors.length === 0,
      ...(part.errors.length ? { error: part.errors.join('; ') } : {}),
    });
  },
);
