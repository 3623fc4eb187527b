import { snapshotVolume } from '../shared/backup/snapshot-volume.js';
import { API_VERSION, parseMessage } from '../shared/messages/index.js';
import { register } from './handle.js';

/** Captures one persistent volume (each disk its own invocation) and reports its part. */
register(
  'snapshotDisks',
  (json) => parseMessage('VolumeSnapshotJob', json),
  async (job, { runtime, deadline }) => {
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
