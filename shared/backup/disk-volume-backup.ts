import type { KubeConfig } from '@kubernetes/client-node';
import { mapLimit } from '../concurrency.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import type { BackupFilters, BackupPolicy } from '../messages/common.js';
import { KubeHttp } from '../kube/kube-http.js';
import type { ObjectStore } from '../store/object-store.js';
import type { BackupPlan } from './parts.js';
import { volumesToSnapshot } from './plan-volumes.js';
import { snapshotVolume } from './snapshot-volume.js';
import type { VolumeBackup } from './volume-backup.js';

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
    await mapLimit(plan.volumes, 4, (pvName) =>
      snapshotVolume(
        this.kubeConfig,
        { store: this.store, disks: this.disks },
        { backupId: plan.backupId, cluster: plan.cluster, policy, pvName },
        Date.now() + (policy.snapshotTimeoutSeconds ?? 480) * 1000,
      ),
    );
  }
}
