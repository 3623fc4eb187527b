import { errorMessage, isRetryable, PermanentError } from '../shared/errors.js';
import { KubeHttp } from '../shared/kube/kube-http.js';
import { parseMessage, restoreCompleted } from '../shared/messages/index.js';
import { resolveBackup } from '../shared/pipeline/resolve-backup.js';
import { DiskVolumeRestore } from '../shared/restore/restore-volume.js';
import { restoreContentDigest, runRestoreStep } from '../shared/restore/run-restore.js';
import { register } from './handle.js';

/**
 * Restores a backup into a target cluster, one step per invocation, chained
 * until done. The request names a deployed restore plan, which decides
 * whose backups, into which clusters and with which options; the request
 * may only narrow it.
 */
register(
  'restore',
  (json) => parseMessage('RestoreRequest', json),
  async (request, { runtime, deadline }) => {
    // What the request asks, whatever step carries it: a redelivery or a chained step of the
    // same request matches it; another request reusing the restore id does not, and is refused.
    const { step: _step, resolvedBackupId: _resolved, ...content } = request;
    const requestDigest = restoreContentDigest(content);
    const failed = async (error: unknown): Promise<void> => {
      // Whoever asked waits for an answer: a restore that cannot run says so and why.
      await runtime.bus.publish(
        runtime.topic('restore-completed'),
        restoreCompleted(request, {
          phase: 'Failed',
          counts: {},
          errors: [errorMessage(error)],
        }),
      );
    };
    let source;
    let kubeConfig;
    let authorised;
    let sealing;
    let targetZones: string[];
    try {
      // Only a chained step carries the backup its first step resolved.
      if (request.step === 0 && request.resolvedBackupId) {
        throw new PermanentError(
          'RestoreRequest: resolvedBackupId is set by the restore itself on a chained step, never on step 0; refused',
        );
      }
      // Asked of the plan before the store or the target is touched.
      const from = 'backupId' in request.backup ? request.backup.cluster : request.backup.latestOf;
      authorised = runtime.deployment.authoriseRestore(request, from);
      // A key that cannot be loaded (missing, disabled) is answered like any other refusal.
      sealing = await runtime.sealer();
      source = await resolveBackup(runtime.store, request, sealing?.sealer);
      kubeConfig = await runtime.inventory.connect(request.target);
      // Disks go into the target's own zones (a standby in another region) unless the plan maps them.
      targetZones = (await runtime.inventory.get(request.target))?.zones ?? [];
    } catch (error) {
      if (isRetryable(error)) throw error;
      await failed(error);
      throw error;
    }
    const http = new KubeHttp(kubeConfig);
    try {
      let step;
      try {
        step = await runRestoreStep(
          {
            http,
            store: runtime.store,
            ...(sealing ? { sealer: sealing.sealer } : {}),
            // A message can name any backup in the bucket: only one sealed with the data key is restored.
            requireAuthenticated: true,
            volumes: new DiskVolumeRestore(kubeConfig, runtime.disks, undefined, targetZones),
          },
          {
            restoreId: request.restoreId,
            source: source.cluster,
            backupId: source.backupId,
            target: request.target,
            options: authorised.options,
            ...(authorised.plan.backupPolicies
              ? { backupPolicies: authorised.plan.backupPolicies }
              : {}),
            narrowing: authorised.narrowing,
            requestDigest,
          },
          deadline,
        );
      } catch (error) {
        // A tampered catalog, a missing key: refused before anything was written.
        if (!isRetryable(error)) await failed(error);
        throw error;
      }
      if (step.status === 'continue') {
        runtime.logger.info(
          { restoreId: request.restoreId, done: step.done, total: step.total },
          'restore continues in a new invocation',
        );
        await runtime.bus.publish(runtime.topic('restore'), {
          ...request,
          resolvedBackupId: source.backupId,
          step: request.step + 1,
        });
        return;
      }
      const { report } = step;
      await runtime.bus.publish(
        runtime.topic('restore-completed'),
        restoreCompleted(request, {
          backupId: source.backupId,
          phase: report.phase,
          reportKey: `restores/${request.restoreId}/report.json`,
          counts: { ...report.counts },
          errors: [
            ...report.errors,
            ...report.outcomes
              .filter((o) => o.outcome === 'failed')
              .slice(0, 20)
              .map((o) => `${o.kind} ${o.namespace ?? ''}/${o.name}: ${o.reason ?? ''}`),
          ],
        }),
      );
      runtime.logger.info(
        { restoreId: request.restoreId, phase: report.phase, counts: report.counts },
        'restore completed',
      );
    } finally {
      http.close();
    }
  },
);
