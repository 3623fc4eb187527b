import type { KubeConfig } from '@kubernetes/client-node';
import { mapLimit } from '../concurrency.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import type { BackupFilters, BackupPolicy } from '../messages/common.js';
import { KubeHttp } from '../kube/kube-http.js';
import type { ObjectStore } from '../store/object-store.js';
import type { BackupPlan } from './parts.js';
import { volumesToSnapshot } from './plan-volumes.js';
import { snapshotVolume, type SnapshotVolumeJob } from './snapshot-volume.js';
import type { VolumeBackup } from './volume-backup.js';

/** One call's share of a volume's wait; the call after a handover picks the snapshot up. */
const CALL_BUDGET_MS = 6 * 60_000;

/** Volumes of an in-process backup: the same per-volume unit as the pipeline, a few at a time. */
export class DiskVolumeBackup implements VolumeBackup {
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly store: ObjectStore,
    private readonly disks: DiskSnapshotter,
  ) {}

  async plan(filters: BackupFilters): Promise<string[]> {
    const http = new KubeHttp(this.kubeConfig);
    try {
      return await volumesToSnapshot(http, filters);
    } finally {
      http.close();
    }
  }

  async snapshotAll(plan: BackupPlan, policy: BackupPolicy): Promise<void> {
    await mapLimit(plan.volumes, 4, async (pvName) => {
      // In process, a handover is taken by the next call, with the same bound as the pipeline's.
      let job: SnapshotVolumeJob = {
        backupId: plan.backupId,
        cluster: plan.cluster,
        policy,
        pvName,
      };
      for (;;) {
        const result = await snapshotVolume(
          this.kubeConfig,
          { store: this.store, disks: this.disks },
          job,
          Date.now() + CALL_BUDGET_MS,
        );
        if ('part' in result) return;
        const { firstAttemptAt, hookResults } = result.handover;
        job = { ...job, firstAttemptAt, hookResults };
      }
    });
  }
}
