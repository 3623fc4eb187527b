import { DiskVolumeBackup } from '../shared/backup/backup-volume.js';
import { runBackup } from '../shared/backup/run-backup.js';
import type { ClusterListing } from '../shared/clusters/cluster-inventory.js';
import { KubeconfigInventory } from '../shared/clusters/kubeconfig-inventory.js';
import { errorMessage, PermanentError } from '../shared/errors.js';
import { KubeHttp } from '../shared/kube/kube-http.js';
import { API_VERSION, parseMessage, type BackupPolicy } from '../shared/messages/index.js';
import type { ClusterRef } from '../shared/messages/common.js';
import { scheduledBackupId, scheduledMinute } from '../shared/pipeline/backup-ids.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { backupSettings, describeProgress } from './backup-create.js';
import {
  computeOptions,
  gceSnapshotter,
  sealingFor,
  type InProcessFlags,
  type Sealing,
} from './connect.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { clusterLabel } from './find-backup.js';
import { requireSetting, type OutputFormat } from './options.js';
import { emit, formatFields, formatTable, section } from './output.js';
import { publishOnly, type PipelineFlags } from './pipeline.js';
import { readPolicyFile } from './policy.js';
import { Progress } from './progress.js';

export interface ScheduleFlags extends PipelineFlags, Omit<InProcessFlags, 'context'> {
  policy: string;
  pipeline?: boolean;
  output: OutputFormat;
}

interface ClusterResult {
  cluster: ClusterRef;
  backupId: string;
  phase: string;
  objects?: number;
  volumes?: number;
  errors: string[];
}

/** `schedule run --pipeline`: one ScheduleTick; the pipeline fans it out to every cluster. */
export async function scheduleThroughPipeline(flags: ScheduleFlags): Promise<ExitCode> {
  const policy = readPolicyFile(flags.policy);
  const scheduledTime = scheduledMinute(new Date().toISOString());
  const tick = parseMessage('ScheduleTick', {
    apiVersion: API_VERSION,
    kind: 'ScheduleTick',
    policy,
    scheduledTime,
  });
  const sent = await publishOnly(flags, 'schedule', tick);
  const result = { ...sent, policy: policy.name, scheduledTime };
  emit(flags.output, result, () =>
    formatFields([
      ['Policy', policy.name],
      ['Scheduled time', scheduledTime],
      ['Topic', `projects/${sent.project}/topics/${sent.topic}`],
      ['Message id', sent.messageId],
    ]),
  );
  return ExitCode.Ok;
}

async function listClusters(path: string, policy: BackupPolicy, policyFile: string) {
  let listing: ClusterListing;
  let inventory: KubeconfigInventory;
  try {
    inventory = new KubeconfigInventory({ kubeconfig: path });
    listing = await inventory.list(policy);
  } catch (error) {
    if (error instanceof PermanentError) throw new UsageError(errorMessage(error));
    throw error;
  }
  if (listing.clusters.length === 0 && listing.skipped.length === 0) {
    throw new UsageError(
      `policy "${policy.name}" (${policyFile}) selects no context of kubeconfig ${path}: in-process, ` +
        "every context is cluster local/local/<context>, so projects must include 'local'",
    );
  }
  return { inventory, listing };
}

async function backUpOne(
  inventory: KubeconfigInventory,
  deps: { store: ObjectStore; sealing?: Sealing; compute?: ReturnType<typeof computeOptions> },
  cluster: ClusterRef,
  backupId: string,
  policy: BackupPolicy,
): Promise<ClusterResult> {
  const progress = new Progress();
  let http: KubeHttp | undefined;
  let disks: Awaited<ReturnType<typeof gceSnapshotter>> | undefined;
  try {
    const kubeConfig = await inventory.connect(cluster);
    http = new KubeHttp(kubeConfig);
    disks = deps.compute ? await gceSnapshotter(deps.compute) : undefined;
    const { catalog } = await runBackup(
      {
        http,
        store: deps.store,
        ...(deps.sealing ?? {}),
        ...(disks ? { volumes: new DiskVolumeBackup(kubeConfig, deps.store, disks) } : {}),
        onProgress: (p) =>
          progress.update(`${clusterLabel(cluster)}: ${describeProgress(backupId, p)}`),
      },
      { backupId, cluster, policy },
    );
    const { objects, volumes } = catalog.counts;
    return { cluster, backupId, phase: catalog.phase, objects, volumes, errors: catalog.errors };
  } catch (error) {
    return { cluster, backupId, phase: 'Failed', errors: [errorMessage(error)] };
  } finally {
    progress.done();
    http?.close();
    await disks?.close();
  }
}

/**
 * `schedule run` in-process: what one scheduler tick does, here and now.
 * Every kubeconfig context the policy selects is backed up, one after
 * another, as `<policy>-<yyyymmdd-hhmm>`. Exit 0 only if every selected
 * cluster was reachable and every backup is Completed.
 */
export async function scheduleInProcess(flags: ScheduleFlags): Promise<ExitCode> {
  const policy = readPolicyFile(flags.policy);
  const { store, wrapper, compute } = backupSettings(policy, flags);
  const path = requireSetting(
    flags.kubeconfig,
    '--kubeconfig FILE',
    'KUBECONFIG',
    'the contexts to back up',
  );
  const { inventory, listing } = await listClusters(path, policy, flags.policy);
  const backupId = scheduledBackupId(policy.name, scheduledMinute(new Date().toISOString()));
  const sealing = wrapper ? await sealingFor(store, wrapper) : undefined;
  const results: ClusterResult[] = [];
  for (const c of listing.clusters) {
    results.push(
      await backUpOne(
        inventory,
        { store, ...(sealing ? { sealing } : {}), ...(compute ? { compute } : {}) },
        c.ref,
        backupId,
        policy,
      ),
    );
  }
  await inventory.close();
  const output = { policy: policy.name, backupId, results, skipped: listing.skipped };
  emit(
    flags.output,
    output,
    () =>
      formatTable(
        ['CLUSTER', 'BACKUP', 'PHASE', 'OBJECTS', 'VOLUMES', 'ERRORS'],
        results.map((r) => [
          clusterLabel(r.cluster),
          r.backupId,
          r.phase,
          r.objects,
          r.volumes,
          r.errors.join('; '),
        ]),
      ) +
      (listing.skipped.length
        ? section(
            'Skipped clusters',
            listing.skipped.map((s) => `${clusterLabel(s.cluster)}: ${s.reason}`),
          )
        : ''),
  );
  const allGood = listing.skipped.length === 0 && results.every((r) => r.phase === 'Completed');
  return allGood ? ExitCode.Ok : ExitCode.NotFullSuccess;
}
