import { DiskVolumeBackup } from '../shared/backup/backup-volume.js';
import { runBackup, type BackupProgress } from '../shared/backup/run-backup.js';
import { Layout } from '../shared/catalog/layout.js';
import { KubeHttp } from '../shared/kube/kube-http.js';
import type { BackupPolicy, ClusterRef } from '../shared/messages/common.js';
import type { KeyWrapper } from '../shared/crypto/key-wrapper.js';
import type { ComputeClientOptions } from '../shared/disks/compute-client-options.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { backupSummary, formatBackupSummary } from './backup-view.js';
import {
  computeEndpointFrom,
  computeOptions,
  gceSnapshotter,
  keySourceFrom,
  keyWrapper,
  kubeTarget,
  sealingFor,
  storeFrom,
  type InProcessFlags,
} from './connect.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { clusterLabel } from './find-backup.js';
import { parseName, type OutputFormat } from './options.js';
import { emit } from './output.js';
import { policyFrom, readPolicyFile, requireKeyForSecrets, type FilterFlags } from './policy.js';
import { Progress } from './progress.js';

export interface BackupCreateFlags extends FilterFlags, InProcessFlags {
  policy?: string;
  output: OutputFormat;
}

export function describeProgress(backupId: string, p: BackupProgress): string {
  const step = {
    plan: 'planning',
    export: 'exporting',
    volumes: 'snapshotting volumes',
    catalog: 'writing the catalog',
  }[p.phase];
  return `backup ${backupId}: ${step}: ${p.objects} objects exported, ${p.shardsDone}/${p.shards} shards done`;
}

/** A backup id names one backup of a cluster: reusing it would silently return the old one. */
export async function refuseExisting(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
): Promise<void> {
  if (
    (await store.exists(Layout.catalog(cluster, backupId))) ||
    (await store.exists(Layout.plan(cluster, backupId)))
  ) {
    throw new UsageError(
      `backup "${backupId}" of cluster ${clusterLabel(cluster)} already exists in ${store.url}: choose another name`,
    );
  }
}

/**
 * The key, store and Compute client an in-process backup needs, each
 * checked (a missing key for Secrets, a bad URL) before anything is written.
 */
export function backupSettings(
  policy: BackupPolicy,
  flags: Omit<InProcessFlags, 'kubeconfig' | 'context'>,
): { store: ObjectStore; wrapper?: KeyWrapper; compute?: ComputeClientOptions } {
  const key = keySourceFrom(flags);
  requireKeyForSecrets(policy, key);
  return {
    store: storeFrom(flags.store),
    ...(key ? { wrapper: keyWrapper(key) } : {}),
    ...(policy.snapshotVolumes
      ? { compute: computeOptions(computeEndpointFrom(flags.computeEndpoint)) }
      : {}),
  };
}

/**
 * `backup create` in-process: every flag checked, the key loaded and the
 * cluster reached before anything is written; then the same plan, shards,
 * parts and catalog as the pipeline. Exit 0 only for a Completed catalog.
 */
export async function createBackupInProcess(
  name: string,
  flags: BackupCreateFlags,
): Promise<ExitCode> {
  const backupId = parseName(name, 'backup name');
  const policy = policyFrom(
    flags.policy ? readPolicyFile(flags.policy) : undefined,
    flags,
    'local',
  );
  const { store, wrapper, compute } = backupSettings(policy, flags);
  const { kubeConfig, cluster } = kubeTarget(flags.kubeconfig, flags.context);
  await refuseExisting(store, cluster, backupId);
  const sealing = wrapper ? await sealingFor(store, wrapper) : undefined;
  const http = new KubeHttp(kubeConfig);
  const disks = compute ? await gceSnapshotter(compute) : undefined;
  const progress = new Progress();
  try {
    const { catalog, uploadedBytes } = await runBackup(
      {
        http,
        store,
        ...(sealing ?? {}),
        ...(disks ? { volumes: new DiskVolumeBackup(kubeConfig, store, disks) } : {}),
        onProgress: (p) => progress.update(describeProgress(backupId, p)),
      },
      { backupId, cluster, policy },
    );
    progress.done(
      `backup ${backupId}: ${catalog.phase}: ${catalog.counts.objects} objects, ${catalog.counts.volumes} volumes`,
    );
    const summary = backupSummary(catalog, store.url, uploadedBytes);
    emit(flags.output, summary, () => formatBackupSummary(summary, catalog));
    return catalog.phase === 'Completed' ? ExitCode.Ok : ExitCode.NotFullSuccess;
  } finally {
    progress.done();
    http.close();
    await disks?.close();
  }
}
