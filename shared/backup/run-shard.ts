import { errorMessage, isRetryable } from '../errors.js';
import { parseStoredJson } from '../store/object-store.js';
import type { ResourceRef } from '../messages/backup.js';
import type { ListPosition } from '../kube/list-pages.js';
import type { Deadline } from '../time/deadline.js';
import { exportResource, type ExportContext } from './export-resource.js';
import { segmentKey, writeManifestPart, type BackupPlan, type ManifestPart } from './parts.js';

export interface ShardOutcome {
  part: ManifestPart;
  uploadedBytes: number;
  /** Set when the shard must go on in another invocation from here. */
  next?: ListPosition;
}

/**
 * Runs one segment of a shard and records its part, with where the next
 * segment starts. A redelivered segment whose part exists exports nothing
 * again but still returns that position, so a continuation lost with the
 * first delivery (its publish failed, or the process died after writing
 * the part) is published again. A transient error is rethrown for a retry
 * unless `finalAttempt`, when it is recorded as a failed part so the backup
 * can finish as PartiallyFailed instead of waiting forever.
 */
export async function runShardSegment(
  ctx: ExportContext,
  plan: Pick<BackupPlan, 'cluster' | 'backupId'>,
  shard: { shardId: string; resource: ResourceRef; segment: number; start?: ListPosition },
  options: {
    deadline?: Deadline;
    finalAttempt?: boolean;
    /** What the failed part says when the final attempt fails (default: the error itself). */
    gaveUp?: (error: unknown) => unknown;
  } = {},
): Promise<ShardOutcome> {
  const key = segmentKey(plan, shard.shardId, shard.segment);
  if (await ctx.store.exists(key)) {
    const part = parseStoredJson(await ctx.store.get(key), key) as ManifestPart;
    return { part, uploadedBytes: 0, ...(part.next && !part.done ? { next: part.next } : {}) };
  }
  let part: ManifestPart;
  let next: ListPosition | undefined;
  let uploadedBytes = 0;
  try {
    const result = await exportResource(ctx, shard.resource, {
      shardId: shard.shardId,
      ...(shard.start ? { start: shard.start } : {}),
      ...(options.deadline ? { deadline: options.deadline } : {}),
    });
    next = result.next;
    uploadedBytes = result.uploadedBytes;
    part = {
      shardId: shard.shardId,
      segment: shard.segment,
      ok: true,
      done: next === undefined,
      packs: result.packs,
      objects: result.objects,
      secrets: result.secrets,
      ...(next ? { next } : {}),
      ...(result.atRevision !== undefined ? { atRevision: result.atRevision } : {}),
    };
  } catch (error) {
    if (!isRetryable(error)) part = failedPart(shard, error);
    else if (options.finalAttempt) part = failedPart(shard, options.gaveUp?.(error) ?? error);
    else throw error;
  }
  await writeManifestPart(ctx.store, plan, part);
  return { part, uploadedBytes, ...(next ? { next } : {}) };
}

/** A segment that can never be exported: it ends its shard, and the backup says why. */
export function failedPart(
  shard: { shardId: string; segment: number },
  error: unknown,
): ManifestPart {
  return {
    shardId: shard.shardId,
    segment: shard.segment,
    ok: false,
    done: true,
    packs: [],
    objects: 0,
    secrets: 0,
    error: errorMessage(error),
  };
}
