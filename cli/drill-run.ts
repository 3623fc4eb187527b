import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { readCatalog } from '../shared/catalog/catalog-io.js';
import type { Catalog } from '../shared/catalog/catalog-schema.js';
import { clustersWithBackups } from '../shared/drill/drill-clusters.js';
import { GceDrillDisks } from '../shared/drill/drill-disks.js';
import { latestDrillableBackup } from '../shared/drill/latest-backup.js';
import { runDrill } from '../shared/drill/run-drill.js';
import { errorMessage } from '../shared/errors.js';
import type { ClusterRef } from '../shared/messages/common.js';
import { API_VERSION } from '../shared/messages/common.js';
import { DrillId, DrillPolicy, type DrillReport } from '../shared/messages/drill.js';
import { DiskVolumeRestore } from '../shared/restore/restore-volume.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import {
  gceSnapshotter,
  restoreSettings,
  sealerForBackup,
  type InProcessFlags,
  type KeySource,
} from './connect.js';
import { CliNotFoundError, ExitCode, UsageError } from './exit-codes.js';
import { clusterLabel } from './find-backup.js';
import { parseClusterRef, parseName, validateFlags, type OutputFormat } from './options.js';
import { emit } from './output.js';
import { Progress } from './progress.js';
import { formatDrillReport } from './drill-view.js';

export interface DrillRunFlags extends InProcessFlags {
  policy: string;
  cluster?: string;
  backup?: string;
  id?: string;
  output: OutputFormat;
}

/** A DrillPolicy from a YAML or JSON file; every problem names the file. */
export function readDrillPolicyFile(path: string): DrillPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read drill policy file ${path}: ${errorMessage(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new UsageError(
      `drill policy file ${path} is not valid YAML or JSON: ${errorMessage(error).split('\n')[0]}`,
    );
  }
  return validateFlags(DrillPolicy, parsed, `drill policy file ${path}`);
}

/** `yymmddhhmmss` of now: a drill id that sorts by time and leaves room for the namespace. */
export function defaultDrillId(now = new Date()): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(2, 14);
}

interface Planned {
  cluster: ClusterRef;
  drillId: string;
  catalog: Catalog | undefined;
}

/** The backup each cluster's drill restores: the one named, or the cluster's latest Completed one. */
async function planDrills(
  store: ObjectStore,
  policy: DrillPolicy,
  flags: DrillRunFlags,
): Promise<Planned[]> {
  const base = flags.id ? validateFlags(DrillId, flags.id, '--id') : defaultDrillId();
  if (!flags.cluster && Object.keys(policy.clusterLabels).length > 0) {
    // Choosing clusters without their labels would drill clusters the policy does not select.
    throw new UsageError(
      `the drill policy ${policy.name} selects clusters by label (clusterLabels), and the store does not record labels: ` +
        'pass --cluster PROJECT/LOCATION/NAME, or run the drill with --pipeline, where the inventory matches them',
    );
  }
  const clusters = flags.cluster
    ? [parseClusterRef(flags.cluster, '--cluster')]
    : await clustersWithBackups(store, policy);
  if (clusters.length === 0) {
    throw new CliNotFoundError(
      `no cluster the drill policy ${policy.name} selects has backups in ${store.url}`,
    );
  }
  if (flags.backup && clusters.length > 1) {
    throw new UsageError('--backup names one backup: pass --cluster too');
  }
  return Promise.all(
    clusters.map(async (cluster, i) => {
      const drillId = clusters.length === 1 ? base : `${base}-${i}`;
      validateFlags(DrillId, drillId, `drill id of ${clusterLabel(cluster)}`);
      const catalog = flags.backup
        ? await readCatalog(store, cluster, parseName(flags.backup, 'backup name')).catch(
            (error: unknown) => {
              throw new CliNotFoundError(
                `backup "${flags.backup}" of ${clusterLabel(cluster)}: ${errorMessage(error)}`,
              );
            },
          )
        : await latestDrillableBackup(store, cluster, policy.backupPolicies);
      return { cluster, drillId, catalog };
    }),
  );
}

function requireKey(planned: Planned[], key: KeySource | undefined): void {
  const sealed = planned.find((p) => (p.catalog?.counts.secrets ?? 0) > 0);
  if (key || !sealed?.catalog) return;
  throw new UsageError(
    `backup ${sealed.catalog.backupId} holds ${sealed.catalog.counts.secrets} sealed Secrets, which a drill restores: ` +
      'pass --key-file FILE (or set LIFEBOAT_KEY_FILE) or --kms-key KEY (or set LIFEBOAT_KMS_KEY)',
  );
}

/**
 * `drill run --policy FILE` in-process: the latest Completed backup of each
 * cluster the policy selects (or --cluster, --backup) restored into the
 * --kubeconfig context, which must be the policy's drill cluster, verified
 * and cleaned up. Exit 0 only when every drill passed.
 */
export async function runDrillsInProcess(flags: DrillRunFlags): Promise<ExitCode> {
  const policy = readDrillPolicyFile(flags.policy);
  const { store, key, compute, kubeConfig, cluster: target } = restoreSettings(flags);
  if (clusterLabel(target) !== clusterLabel(policy.drillCluster)) {
    throw new UsageError(
      `the kubeconfig context is cluster ${clusterLabel(target)}, but the policy's drill cluster is ${clusterLabel(policy.drillCluster)}: a drill writes only to its drill cluster`,
    );
  }
  const planned = await planDrills(store, policy, flags);
  requireKey(planned, key);
  const withVolumes =
    policy.restoreVolumes && planned.some((p) => (p.catalog?.volumes.length ?? 0) > 0);
  const snapshotter = withVolumes ? await gceSnapshotter(compute) : undefined;
  const disks = withVolumes ? new GceDrillDisks(compute) : undefined;
  const progress = new Progress();
  const reports: DrillReport[] = [];
  try {
    for (const p of planned) {
      const sealer = p.catalog
        ? await sealerForBackup(store, key, p.catalog.encryption)
        : undefined;
      const report = await runDrill(
        {
          target,
          kubeConfig,
          store,
          ...(sealer ? { sealer } : {}),
          ...(snapshotter ? { volumes: new DiskVolumeRestore(kubeConfig, snapshotter) } : {}),
          ...(disks ? { disks } : {}),
          onProgress: (text) => progress.update(text),
        },
        {
          apiVersion: API_VERSION,
          kind: 'DrillJob',
          drillId: p.drillId,
          policy,
          cluster: p.cluster,
          ...(p.catalog ? { backupId: p.catalog.backupId } : {}),
        },
      );
      progress.done(`drill ${report.drillId}: ${report.verdict}`);
      reports.push(report);
    }
  } finally {
    progress.done();
    await snapshotter?.close();
    await disks?.close();
  }
  const only = reports.length === 1 ? reports[0] : undefined;
  emit(flags.output, only ?? { items: reports }, () =>
    reports.map((r) => formatDrillReport(r)).join('\n\n---\n\n'),
  );
  return reports.every((r) => r.verdict === 'passed') ? ExitCode.Ok : ExitCode.NotFullSuccess;
}
