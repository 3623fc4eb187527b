import type { BackupCompleted, PartDone } from './backup.js';
import { API_VERSION } from './common.js';
import type { RestoreCompleted } from './restore.js';

/** What a message of type M says beyond its header: the part its sender fills in. */
export type Body<M extends { apiVersion: string; kind: string }> = Omit<M, 'apiVersion' | 'kind'>;

/** A shard, a volume or the plan of a backup reporting in, for the catalog to be written once all have. */
export function partDone(
  of: Pick<PartDone, 'backupId' | 'cluster'>,
  part: Omit<Body<PartDone>, 'backupId' | 'cluster'>,
): PartDone {
  return {
    apiVersion: API_VERSION,
    kind: 'PartDone',
    backupId: of.backupId,
    cluster: of.cluster,
    ...part,
  };
}

/** A backup's outcome, published once its catalog (or its failure) is written. */
export function backupCompleted(body: Body<BackupCompleted>): BackupCompleted {
  return { apiVersion: API_VERSION, kind: 'BackupCompleted', ...body };
}

/** A restore's outcome, the answer whoever asked for it waits for. */
export function restoreCompleted(
  of: Pick<RestoreCompleted, 'restoreId' | 'target'>,
  outcome: Omit<Body<RestoreCompleted>, 'restoreId' | 'target'>,
): RestoreCompleted {
  const { backupId, ...rest } = outcome;
  return {
    apiVersion: API_VERSION,
    kind: 'RestoreCompleted',
    restoreId: of.restoreId,
    // Where it has always been: a message printed whole keeps its order.
    ...(backupId !== undefined ? { backupId } : {}),
    target: of.target,
    ...rest,
  };
}
