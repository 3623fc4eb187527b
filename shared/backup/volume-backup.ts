import type { BackupFilters, BackupPolicy } from '../messages/common.js';
import type { BackupPlan } from './parts.js';

/**
 * The volume half of a backup: which PVs to capture, and capturing them
 * (each writes its own volume part). Implemented over the disk snapshotters.
 */
export interface VolumeBackup {
  plan(filters: BackupFilters): Promise<string[]>;
  snapshotAll(plan: BackupPlan, policy: BackupPolicy): Promise<void>;
}
