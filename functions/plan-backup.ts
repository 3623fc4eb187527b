import { previousBackupId } from '../shared/backup/known-packs.js';
import { writePlan, type BackupPlan } from '../shared/backup/parts.js';
import { Layout } from '../shared/catalog/layout.js';
import { labelsSelected } from '../shared/clusters/cluster-selection.js';
import { errorMessage, isRetryable, PermanentError } from '../shared/errors.js';
import { isSecretsResource } from '../shared/backup/export-resource.js';
import { DEFAULT_FILTERS, planBackup } from '../shared/backup/plan.js';
import { volumesToSnapshot } from '../shared/backup/plan-volumes.js';
import { mapLimit } from '../shared/concurrency.js';
import { KubeHttp } from '../shared/kube/kube-http.js';
import { recordFailedBackup } from '../shared/backup/failed-backup.js';
import { announceOnce } from '../shared/pipeline/announce-once.js';
import {
  API_VERSION,
  backupCompleted,
  parseMessage,
  partDone,
  type BackupCompleted,
  type BackupPolicy,
  type ClusterBackupJob,
} from '../shared/messages/index.js';
import { register } from './handle.js';

/**
 * Plans a cluster's backup and fans it out: one message per resource shard
 * and per volume. Deployed as exportManifests, the name deployments know.
 */
register(
  'exportManifests',
  (json) => parseMessage('ClusterBackupJob', json),
  async (carried, { runtime, deadline }) => {
    const checkedPolicy = async (): Promise<BackupPolicy> => {
      const policy = runtime.deployment.checkBackupJob(carried, 'ClusterBackupJob');
      if (Object.keys(policy.clusterLabels).length > 0) {
        const live = await runtime.inventory.get(carried.cluster);
        if (!live || !labelsSelected(policy.clusterLabels, live.labels)) {
          throw new PermanentError(
            `ClusterBackupJob: cluster ${Layout.clusterKey(carried.cluster)} does not carry the labels policy ${policy.name} selects; refused`,
          );
        }
      }
      return policy;
    };
    // Whoever waits for this backup gets an answer: a job that can never be planned (an unknown
    // cluster, a 403 from the API server, Secrets and no key) is announced Failed with the reason.
    // A refused job gets only the message: what the store holds is for jobs the deployment asked for.
    const refused = async (error: unknown): Promise<never> => {
      if (!isRetryable(error)) {
        await runtime.bus.publish(
          runtime.topic('backup-completed'),
          failedMessage(carried, errorMessage(error)),
        );
      }
      throw error;
    };
    const startedAt = new Date().toISOString();
    // A job is a request: its policy must be deployed as it says, and select its cluster. The
    // deployed policy is the one planned under (and carried on by every later message).
    const job = { ...carried, policy: await checkedPolicy().catch(refused) };
    const failed = async (error: unknown): Promise<never> => {
      if (isRetryable(error)) throw error;
      // The key may be what failed: then the record is written unsealed (it restores nothing).
      const sealer = (await runtime.sealer().catch(() => undefined))?.sealer;
      const recorded = await recordFailedBackup(
        runtime.store,
        job,
        errorMessage(error),
        startedAt,
        sealer,
      );
      if (recorded) await announce(recorded);
      throw error;
    };
    const announce = async (message: BackupCompleted): Promise<void> => {
      await announceOnce(
        runtime.store,
        message,
        async (m) => {
          await runtime.bus.publish(runtime.topic('backup-completed'), m);
        },
        { deadline },
      );
    };
    const planJob = async (http: KubeHttp): Promise<BackupPlan> => {
      const filters = job.policy.filters ?? DEFAULT_FILTERS;
      const volumes = job.policy.snapshotVolumes ? await volumesToSnapshot(http, filters) : [];
      const sealing = await runtime.sealer();
      const planned = await planBackup(http, {
        backupId: job.backupId,
        cluster: job.cluster,
        policy: job.policy,
        filters,
        volumes,
        previousBackupId: await previousBackupId(runtime.store, job.cluster),
      });
      if (!sealing && planned.shards.some((s) => isSecretsResource(s.resource))) {
        // What the CLI refuses up front, the pipeline refuses before exporting anything.
        throw new PermanentError(
          `policy ${job.policy.name} backs up Secrets but no key is configured to seal them: set LIFEBOAT_KMS_KEY (kms_enabled in infra/) or LIFEBOAT_KEY_FILE, or exclude secrets in the policy's filters`,
        );
      }
      return writePlan(runtime.store, {
        ...planned,
        ...(sealing ? { encryption: sealing.encryption } : {}),
      });
    };
    // A cluster the inventory does not know gets the message only: a store entry for every name a
    // message can make up would let a publisher fill the store.
    const kubeConfig = await runtime.inventory.connect(job.cluster).catch(refused);
    const http = new KubeHttp(kubeConfig);
    try {
      const plan = await planJob(http).catch(failed);
      const common = {
        apiVersion: API_VERSION,
        backupId: job.backupId,
        cluster: job.cluster,
        policy: job.policy,
      };
      await mapLimit(plan.shards, 50, (s) =>
        runtime.bus.publish(runtime.topic('export-shards'), {
          ...common,
          kind: 'ExportShard',
          shardId: s.shardId,
          resource: s.resource,
          segment: 0,
        }),
      );
      await mapLimit(plan.volumes, 50, (pvName) =>
        runtime.bus.publish(runtime.topic('disk-snapshots'), {
          ...common,
          kind: 'VolumeSnapshotJob',
          pvName,
        }),
      );
      // An empty plan still needs its catalog.
      await runtime.bus.publish(
        runtime.topic('backup-parts'),
        partDone(job, { partId: 'plan', partKind: 'plan', ok: true }),
      );
      runtime.logger.info(
        {
          backupId: job.backupId,
          cluster: job.cluster,
          shards: plan.shards.length,
          volumes: plan.volumes.length,
        },
        'backup planned',
      );
    } finally {
      http.close();
    }
  },
);

/** The answer to a job refused before it touched the store. */
function failedMessage(job: ClusterBackupJob, reason: string): BackupCompleted {
  return backupCompleted({
    backupId: job.backupId,
    cluster: job.cluster,
    phase: 'Failed',
    catalogKey: Layout.catalog(job.cluster, job.backupId),
    counts: {},
    errors: [reason],
  });
}
