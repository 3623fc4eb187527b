import { Layout } from '../shared/catalog/layout.js';
import { resourceSelected } from '../shared/kube/filters.js';
import { KubeHttp } from '../shared/kube/kube-http.js';
import type { RestoreOptions } from '../shared/messages/restore.js';
import { DiskVolumeRestore } from '../shared/restore/restore-volume.js';
import { runRestore } from '../shared/restore/run-restore.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { gceSnapshotter, restoreSettings, sealerForBackup, type KeySource } from './connect.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { findCatalog } from './find-backup.js';
import { emit } from './output.js';
import { Progress } from './progress.js';
import {
  restoreIdsFrom,
  restoreOptionsFrom,
  sourceClusterFrom,
  type RestoreFlags,
} from './restore-flags.js';
import { formatReport } from './restore-view.js';

const SECRETS = { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true };

export async function refuseExistingRestore(store: ObjectStore, restoreId: string): Promise<void> {
  if (await store.exists(Layout.report(restoreId))) {
    throw new UsageError(
      `restore "${restoreId}" already exists in ${store.url}: choose another name`,
    );
  }
}

function requireKeyForSecrets(secrets: number, options: RestoreOptions, key?: KeySource): void {
  if (key || secrets === 0) return;
  if (!resourceSelected(SECRETS, options.includeResources, options.excludeResources)) return;
  throw new UsageError(
    `the backup holds ${secrets} sealed Secrets: pass --key-file FILE (or set LIFEBOAT_KEY_FILE) ` +
      'or --kms-key KEY (or set LIFEBOAT_KMS_KEY) with the key the backup was made with, or ' +
      'leave them out with --exclude-resources secrets',
  );
}

/**
 * `restore create` in-process: the backup found in the store (its catalog
 * names the source cluster), verified before anything is written, restored
 * into the --kubeconfig context. Exit 0 only for a Completed restore.
 */
export async function createRestoreInProcess(
  name: string | undefined,
  flags: RestoreFlags,
): Promise<ExitCode> {
  const { backupId, restoreId } = restoreIdsFrom(name, flags);
  const options = restoreOptionsFrom(flags);
  const source = sourceClusterFrom(flags);
  const { store, key, compute, kubeConfig, cluster: target } = restoreSettings(flags);
  await refuseExistingRestore(store, restoreId);
  const catalog = await findCatalog(store, backupId, source);
  requireKeyForSecrets(catalog.counts.secrets, options, key);
  const sealer = await sealerForBackup(store, key, catalog.encryption);
  const http = new KubeHttp(kubeConfig);
  // Volumes need Compute Engine only when the catalog has some (its client is slow to load).
  const disks = catalog.volumes.length > 0 ? await gceSnapshotter(compute) : undefined;
  const progress = new Progress();
  try {
    const report = await runRestore(
      {
        http,
        store,
        ...(sealer ? { sealer } : {}),
        ...(disks ? { volumes: new DiskVolumeRestore(kubeConfig, disks) } : {}),
        onProgress: (done, total) =>
          progress.update(`restore ${restoreId}: ${done}/${total} objects done`),
      },
      { restoreId, source: catalog.cluster, backupId, target, options },
    );
    progress.done(`restore ${restoreId}: ${report.phase}`);
    emit(flags.output, report, () => formatReport(report));
    return report.phase === 'Completed' ? ExitCode.Ok : ExitCode.NotFullSuccess;
  } finally {
    progress.done();
    http.close();
    await disks?.close();
  }
}
