import { createHash } from 'node:crypto';
import { mapLimit } from '../shared/concurrency.js';
import { Layout } from '../shared/catalog/layout.js';
import { computeClientOptions } from '../shared/disks/compute-client-options.js';
import { GceDrillDisks } from '../shared/drill/drill-disks.js';
import { finishedDrillReport } from '../shared/drill/drill-store.js';
import { runDrillStep } from '../shared/drill/run-drill.js';
import { errorMessage, isRetryable } from '../shared/errors.js';
import {
  BackupPolicy,
  parseMessage,
  type ClusterRef,
  type DrillJob,
  type DrillPolicy,
} from '../shared/messages/index.js';
import { DiskVolumeRestore } from '../shared/restore/restore-volume.js';
import { validate } from '../shared/validate.js';
import { announceDrill, outcomeOf } from './drill-verdict.js';
import { register } from './handle.js';
import type { Runtime } from './runtime.js';

/**
 * Cleanup's share of an invocation: the work budget (6 minutes) plus this
 * stays under the 9 minutes after which the platform stops the function.
 */
const DRILL_CLEANUP_MS = 150_000;

/**
 * The id of the drill of one cluster started by a job that named none (the
 * scheduler's, whose body is the same every time): made from the message
 * id, so a redelivered job starts the same drills again rather than new ones.
 */
export function fannedOutDrillId(messageId: string, cluster: ClusterRef): string {
  const digest = createHash('sha256')
    .update(`${messageId}\n${Layout.clusterKey(cluster)}`)
    .digest('hex');
  return `d${digest.slice(0, 11)}`;
}

/** The drill policy's cluster selector, as the inventory reads a backup policy's. */
function selector(policy: DrillPolicy): BackupPolicy {
  return validate(
    BackupPolicy,
    {
      name: policy.name,
      projects: policy.projects,
      locations: policy.locations,
      clusterNames: policy.clusterNames,
      clusterLabels: policy.clusterLabels,
    },
    `drill policy ${policy.name} as a cluster selector`,
  );
}

/**
 * A job without a cluster: one drill per cluster the policy selects, each
 * on the drill topic with an id of its own. Clusters that are not running
 * are drilled too: a drill reads only the store, never the source cluster.
 */
async function fanOut(
  runtime: Runtime,
  job: DrillJob,
  messageId: string,
  publishTime: string,
): Promise<void> {
  const listing = await runtime.inventory.list(selector(job.policy));
  for (const u of listing.unlisted) {
    runtime.logger.error(
      { location: u, reason: u.reason, policy: job.policy.name },
      'clusters could not be listed here: none of them is drilled this time',
    );
  }
  const clusters = [
    ...listing.clusters.map((c) => c.ref),
    ...listing.skipped.map((s) => s.cluster),
  ];
  const jobs: DrillJob[] = clusters.map((cluster) => ({
    ...job,
    drillId: fannedOutDrillId(messageId, cluster),
    cluster,
    requestedAt: job.requestedAt ?? publishTime,
  }));
  await mapLimit(jobs, 20, (drill) => runtime.bus.publish(runtime.topic('drill'), drill));
  runtime.logger.info(
    { policy: job.policy.name, drills: jobs.map((j) => j.drillId) },
    'drills published, one per cluster',
  );
}

/**
 * A restore drill. The job must carry exactly a deployed drill policy,
 * whose drill cluster is the only cluster the drill writes to; a job naming
 * no cluster fans out into one drill per cluster the policy selects. A
 * drill restores the backup through the ordinary restore path, verifies
 * it, cleans up, writes its report beside the backup and publishes
 * DrillCompleted; a failed drill also logs the entry that pages.
 */
register(
  'drill',
  (json) => parseMessage('DrillJob', json),
  async (carried, { runtime, messageId, publishTime, deadline }) => {
    // Asked of the deployment before the store or any cluster is touched.
    const policy = runtime.deployment.checkDrillJob(carried);
    const job: DrillJob = { ...carried, policy };
    if (!job.cluster) {
      await fanOut(runtime, job, messageId, publishTime);
      return;
    }
    const finished = await finishedDrillReport(runtime.store, job.drillId);
    if (finished) {
      // A redelivered job (or hand-over) of a drill that has ended: its verdict again, nothing drilled twice.
      await announceDrill(
        runtime.bus,
        runtime.topic('drill-completed'),
        runtime.logger,
        outcomeOf(finished),
        {
          again: true,
        },
      );
      return;
    }
    const source = job.cluster;
    const requested: DrillJob = { ...job, requestedAt: job.requestedAt ?? publishTime };
    const topic = runtime.topic('drill-completed');
    let prepared;
    try {
      // A key that cannot be loaded (missing, disabled) is answered like any other refusal.
      const sealing = await runtime.sealer();
      const kubeConfig = await runtime.inventory.connect(policy.drillCluster);
      // Disks go into the drill cluster's own zones.
      const zones = (await runtime.inventory.get(policy.drillCluster))?.zones ?? [];
      prepared = { sealing, kubeConfig, zones };
    } catch (error) {
      if (isRetryable(error)) throw error;
      await announceDrill(runtime.bus, topic, runtime.logger, {
        drillId: job.drillId,
        policy: policy.name,
        source,
        drillCluster: policy.drillCluster,
        backupId: job.backupId,
        verdict: 'failed',
        reasons: [`the drill could not start: ${errorMessage(error)}`],
        leftBehind: [],
      });
      throw error;
    }
    const disks = new GceDrillDisks(computeClientOptions(runtime.config.computeEndpoint));
    try {
      const step = await runDrillStep(
        {
          target: policy.drillCluster,
          kubeConfig: prepared.kubeConfig,
          store: runtime.store,
          ...(prepared.sealing ? { sealer: prepared.sealing.sealer } : {}),
          // A message can name any backup in the bucket: only one sealed with the data key is drilled.
          requireAuthenticated: true,
          volumes: new DiskVolumeRestore(
            prepared.kubeConfig,
            runtime.disks,
            undefined,
            prepared.zones,
          ),
          disks,
          onProgress: (message) => runtime.logger.debug({ drillId: job.drillId }, message),
          cleanupTimeoutMs: DRILL_CLEANUP_MS,
        },
        requested,
        // The restore hands over at the work budget; cleanup gets what remains of the invocation.
        deadline,
      );
      if (step.status === 'continue') {
        runtime.logger.info(
          { drillId: job.drillId, done: step.done, total: step.total },
          'drill continues in a new invocation',
        );
        // The same job, its request time fixed: the next invocation resumes the drill's restore.
        await runtime.bus.publish(runtime.topic('drill'), requested);
        return;
      }
      await announceDrill(runtime.bus, topic, runtime.logger, {
        ...outcomeOf(step.report),
        source,
      });
    } finally {
      await disks.close();
    }
  },
);
