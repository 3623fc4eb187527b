import { knownPacks } from '../shared/backup/known-packs.js';
import {
  listScopeOf,
  readPlanOf,
  writeManifestPart,
  type ManifestPart,
} from '../shared/backup/parts.js';
import { DEFAULT_FILTERS } from '../shared/backup/plan.js';
import { failedDeliveries, recordFailedDelivery } from '../shared/backup/delivery-attempts.js';
import { errorMessage, isRetryable, PermanentError } from '../shared/errors.js';
import type { ResourceRef } from '../shared/messages/backup.js';
import { failedPart, runShardSegment, type ShardOutcome } from '../shared/backup/run-shard.js';
import { KubeHttp } from '../shared/kube/kube-http.js';
import { parseMessage, partDone } from '../shared/messages/index.js';
import { register } from './handle.js';

/**
 * After this many deliveries a failing shard is recorded as failed, so the backup can finish.
 * Deployed, the subscription's backoff (10 s to 600 s) spreads them over several minutes.
 */
const FINAL_ATTEMPT = 5;

/** A long shard logs how far it got at most this often (and after its first page). */
const PROGRESS_EVERY_MS = 5_000;

function sameResource(a: ResourceRef, b: ResourceRef): boolean {
  return (
    a.group === b.group &&
    a.version === b.version &&
    a.resource === b.resource &&
    a.kind === b.kind &&
    a.namespaced === b.namespaced
  );
}

/**
 * Exports one shard (or one segment of a large one) and reports its part.
 * What it exports comes from the written plan, found by the message's
 * shardId: a message naming a shard the plan lacks, or another resource than
 * the plan's, is refused (acknowledged, nothing written).
 */
register(
  'exportShard',
  (json) => parseMessage('ExportShard', json),
  async (shard, { runtime, deadline, deliveryAttempt, log }) => {
    let lastProgress = 0;
    const onProgress = (objects: number): void => {
      if (objects === 0 || Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = Date.now();
      log.info(
        {
          backupId: shard.backupId,
          shardId: shard.shardId,
          resource: resource.resource,
          segment: shard.segment,
          objects,
        },
        `exportShard: ${resource.resource} segment ${shard.segment}: ${objects} objects so far`,
      );
    };
    const plan = await readPlanOf(runtime.store, shard, `ExportShard ${shard.shardId}`);
    const planned = plan.shards.find((s) => s.shardId === shard.shardId);
    if (!planned) {
      throw new PermanentError(
        `ExportShard ${shard.shardId} of backup ${shard.backupId}: the plan has no such shard; refused`,
      );
    }
    if (!sameResource(planned.resource, shard.resource)) {
      throw new PermanentError(
        `ExportShard ${shard.shardId} of backup ${shard.backupId}: the message names ${JSON.stringify(shard.resource)} but the plan says ${JSON.stringify(planned.resource)}; refused`,
      );
    }
    const resource = planned.resource;
    const reportPart = async (part: ManifestPart): Promise<void> => {
      await runtime.bus.publish(
        runtime.topic('backup-parts'),
        partDone(shard, {
          partId: `${shard.shardId}/${shard.segment}`,
          partKind: 'manifests',
          ok: part.ok,
          ...(part.error ? { error: part.error } : {}),
        }),
      );
    };
    const exportSegment = async (
      finalAttempt: boolean,
      gaveUp: (error: unknown) => Error,
    ): Promise<ShardOutcome> => {
      let sealing;
      try {
        sealing = await runtime.sealer();
      } catch (error) {
        if (isRetryable(error)) throw error;
        // A key that can never be loaded here (disabled, missing) ends the shard as failed, so the
        // backup finishes and says why instead of waiting for a part that never comes.
        const part = failedPart(shard, error);
        await writeManifestPart(runtime.store, plan, part);
        return { part, uploadedBytes: 0 };
      }
      const http = new KubeHttp(await runtime.inventory.connect(shard.cluster));
      try {
        const outcome = await runShardSegment(
          {
            http,
            store: runtime.store,
            filters: plan.policy.filters ?? DEFAULT_FILTERS,
            // The plan names the catalog to build on: one read, instead of listing the cluster's backups.
            knownPacks: await knownPacks(runtime.store, shard.cluster, plan.previousBackupId),
            ...listScopeOf(plan),
            ...(sealing ? { sealer: sealing.sealer } : {}),
            onProgress,
          },
          shard,
          {
            shardId: shard.shardId,
            resource,
            segment: shard.segment,
            ...(shard.start ? { start: shard.start } : {}),
          },
          { deadline, finalAttempt, gaveUp },
        );
        return outcome;
      } finally {
        http.close();
      }
    };
    const partId = `manifests/${shard.shardId}/${String(shard.segment).padStart(5, '0')}`;
    const failures = await failedDeliveries(runtime.store, shard, partId, FINAL_ATTEMPT);
    // The envelope's count when Pub/Sub sends one, else the failures the store has seen.
    const attempt = Math.max(deliveryAttempt, failures.count + 1);
    const finalAttempt = attempt >= FINAL_ATTEMPT;
    const gaveUp = (error: unknown): Error =>
      new Error(`failed on ${attempt} deliveries; the last: ${errorMessage(error)}`);
    try {
      const outcome = await exportSegment(finalAttempt, gaveUp);
      if (outcome.next) {
        // Published again on a redelivery that finds the part: a continuation is never lost.
        await runtime.bus.publish(runtime.topic('export-shards'), {
          ...shard,
          segment: shard.segment + 1,
          start: outcome.next,
        });
      }
      await reportPart(outcome.part);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      await recordFailedDelivery(runtime.store, shard, partId, failures.count, error);
      if (!finalAttempt) throw error;
      // Whatever keeps failing (the cluster unreachable, the key service down), the backup
      // finishes and says why instead of waiting for a part that never comes.
      log.error({ attempt, reason: errorMessage(error) }, 'exportShard: giving up on this segment');
      const part = failedPart(shard, gaveUp(error));
      await writeManifestPart(runtime.store, plan, part);
      await reportPart(part);
    }
  },
);
