import type { BackupCompleted, PartDone } from './backup.js';
import { API_VERSION } from './common.js';
import type { RestoreCompleted } from './restore.js';

/** What a message of type M says beyond its header: the part its sender fills in. */
export type Body<M extends { apiVersion: string; kind: string }> = Omit<M, 'apiVersion' | 'kind'>;

/** A shard, a volume or the plan reporting in, for the catalog to be written once all have. */
export function partDone(body: Body<PartDone>): PartDone {
  return { apiVersion: API_VERSION, kind: 'PartDone', ...body };
}

/** A backup's outcome, published once its catalog (or its failure) is written. */
export function backupCompleted(body: Body<BackupCompleted>): BackupCompleted {
  return { apiVersion: API_VERSION, kind: 'BackupCompleted', ...body };
}

/** A restore's outcome, the answer whoever asked for it waits for. */
export function restoreCompleted(body: Body<RestoreCompleted>): RestoreCompleted {
  return { apiVersion: API_VERSION, kind: 'RestoreCompleted', ...body };
}
