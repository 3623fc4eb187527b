import type { KubeConfig } from '@kubernetes/client-node';
import type { Catalog } from '../catalog/catalog-schema.js';
import type { Sealer } from '../crypto/sealer.js';
import { errorMessage, PermanentError } from '../errors.js';
import { selected } from '../kube/filters.js';
import { API_VERSION, type ClusterRef } from '../messages/common.js';
import { DrillPassCriteria, type DrillJob, type DrillReport } from '../messages/drill.js';
import { RestoreOptions } from '../messages/restore.js';
import { readVerifiedCatalog } from '../catalog/load-backup.js';
import type { RestoreReport } from '../restore/report.js';
import { fetchPack } from '../restore/restore-plan.js';
import { runRestoreStep, type RestoreJob } from '../restore/run-restore.js';
import type { VolumeRestore } from '../restore/restore-volume.js';
import type { ObjectStore } from '../store/object-store.js';
import { Deadline } from '../time/deadline.js';
import { validate } from '../validate.js';
import { cleanUpDrill, restoredDiskCandidates } from './drill-cleanup.js';
import type { DrillDisks } from './drill-disks.js';
import { assertDrillCluster, DrillKubeHttp } from './drill-guard.js';
import { abandonDrillRestore, drillRestoreDigest } from './drill-restore-state.js';
import { drillNamespace, drillRestoreId } from './drill-names.js';
import { writeDrillReport } from './drill-store.js';
import { drillVerdict } from './drill-verdict.js';
import { guardedVolumes } from './drill-volumes.js';
import { verifyObjects, verifyVolumes, type ObjectFindings } from './drill-verify.js';
import { latestDrillableBackup } from './latest-backup.js';

export interface DrillDeps {
  /** The cluster `kubeConfig` reaches: a drill runs only when it is the policy's drill cluster. */
  target: ClusterRef;
  /** Credentials for the drill cluster; every write goes through the drill's guarded client. */
  kubeConfig: KubeConfig;
  store: ObjectStore;
  sealer?: Sealer;
  /** Restore only a catalog sealed with the data key (every drill the pipeline runs). */
  requireAuthenticated?: boolean;
  /** Disks from snapshots into the drill cluster (DiskVolumeRestore): needed to restore volume data. */
  volumes?: VolumeRestore;
  /** Looks at and deletes the disks the drill made. */
  disks?: DrillDisks;
  onProgress?: (message: string) => void;
  /** How long the drill cluster's PV controller may take to bind a restored claim (default 60 s). */
  bindTimeoutMs?: number;
  /** How long cleanup waits for what it deleted to be gone (default 5 minutes). */
  cleanupTimeoutMs?: number;
}

/** What one invocation of a drill came to: its report, or a restore to go on with in the next. */
export type DrillStep =
  { status: 'done'; report: DrillReport } | { status: 'continue'; done: number; total: number };

const STEP_MS = 60_000;

/** The namespaces a backup holds that the policy selects, read from its packs (every pack is verified on the way). */
async function drilledNamespaces(
  store: ObjectStore,
  catalog: Catalog,
  include: readonly string[],
  exclude: readonly string[],
): Promise<string[]> {
  const found = new Set<string>();
  for (const entry of catalog.packs) {
    const pack = await fetchPack(store, catalog.backupId, entry);
    for (let r = 0; r < pack.count; r++) {
      const { ref } = pack.record(r);
      const ns = ref.kind === 'Namespace' && ref.group === '' ? ref.name : ref.namespace;
      if (ns !== undefined && selected(ns, [...include], [...exclude])) found.add(ns);
    }
  }
  return [...found].sort();
}

/**
 * A restore drill of one cluster's backup: the named backup, or the
 * cluster's latest Completed one, restored through the ordinary restore
 * path into the policy's drill cluster with every namespace renamed
 * `drill-<id>-<namespace>` and conflicts skipped (cluster-scoped objects
 * the drill cluster has are compared, never overwritten); volumes come back
 * as disks made from their snapshots. Then every restored object is
 * compared with its catalog record and every restored claim must be bound
 * to its restored disk; the RTO runs from the request to that verification.
 * Whatever happened, everything the drill created is deleted and waited on
 * until gone, and what could not be is listed. The report is written beside
 * the backup and returned; a drill that fails is a report, not an error.
 */
export async function runDrill(deps: DrillDeps, job: DrillJob): Promise<DrillReport> {
  const step = await runDrillStep(deps, job, Deadline.none());
  if (step.status === 'done') return step.report;
  // Unreachable: without an invocation's deadline a drill runs until its policy's timeout.
  throw new Error(`drill ${job.drillId} handed over without a deadline`);
}

/**
 * One invocation's share of a drill (`runDrill` for the pipeline): when the
 * invocation's `deadline` (its work budget) comes before the
 * policy's timeout while the restore is still running, the step stops there
 * and returns `continue`, leaving the restore's saved progress and its lease
 * for the next invocation to resume from (the job carries `requestedAt`, so
 * the RTO still counts from the request). Nothing is cleaned up and no
 * report is written until the drill ends. The restore is resumed; the
 * verification and cleanup run in the invocation that finishes it.
 */
export async function runDrillStep(
  deps: DrillDeps,
  job: DrillJob,
  deadline: Deadline,
): Promise<DrillStep> {
  const { policy, drillId } = job;
  const requestedAt = job.requestedAt ?? new Date().toISOString();
  const restoreId = drillRestoreId(drillId);
  const criteria = policy.pass ?? validate(DrillPassCriteria, {}, 'drill pass criteria');
  const source = job.cluster;
  const stopped: string[] = [];
  const progress = deps.onProgress ?? ((): void => undefined);
  let http: DrillKubeHttp | undefined;
  let catalog: Catalog | undefined;
  let restoreJob: RestoreJob | undefined;
  let restore: RestoreReport | undefined;
  let objects: ObjectFindings | undefined;
  let volumes: DrillReport['volumes'] = [];
  let verifiedAt: string | undefined;
  let namespaces: Record<string, string> = {};
  const policyTimeoutAt = Date.parse(requestedAt) + policy.timeoutSeconds * 1000;
  const timeoutAt = Math.min(policyTimeoutAt, deadline.at);
  try {
    if (!source) {
      throw new PermanentError(
        'a drill job names the cluster whose backup it drills (one job per cluster)',
      );
    }
    // Before anything else: this drill may only ever write to its policy's drill cluster.
    assertDrillCluster(deps.target, policy.drillCluster);
    http = new DrillKubeHttp(deps.kubeConfig, drillId, restoreId);
    const backupId =
      job.backupId ??
      (await latestDrillableBackup(deps.store, source, policy.backupPolicies))?.backupId;
    if (!backupId)
      throw new PermanentError(
        `cluster ${source.project}/${source.location}/${source.name} has no Completed backup to drill`,
      );
    ({ catalog } = await readVerifiedCatalog(deps.store, source, backupId, {
      ...(deps.sealer ? { sealer: deps.sealer } : {}),
      ...(deps.requireAuthenticated ? { requireAuthenticated: true } : {}),
    }));
    progress(
      `drill ${drillId}: backup ${backupId} of ${source.name}, into ${policy.drillCluster.name}`,
    );
    const drilled = await drilledNamespaces(
      deps.store,
      catalog,
      policy.namespaces,
      policy.excludeNamespaces,
    );
    namespaces = Object.fromEntries(drilled.map((ns) => [ns, drillNamespace(drillId, ns)]));
    if (policy.restoreVolumes && catalog.volumes.length > 0 && !deps.volumes) {
      throw new PermanentError(
        'the policy restores volume data, but no Compute Engine client was given',
      );
    }
    const options = validate(
      RestoreOptions,
      {
        // Only the mapped namespaces: a namespace that is not renamed is never written to.
        includeNamespaces: drilled.length > 0 ? drilled : ['-none-'],
        namespaceMapping: namespaces,
        conflictPolicy: 'skip',
        volumeDataPolicy: policy.restoreVolumes ? 'restore-from-snapshot' : 'no-volume-data',
        ...(policy.drillCluster.project !== 'local'
          ? { targetProject: policy.drillCluster.project }
          : {}),
      },
      'drill restore options',
    );
    const restoreRequest = {
      restoreId,
      source,
      backupId,
      target: policy.drillCluster,
      options,
      ...(policy.backupPolicies ? { backupPolicies: policy.backupPolicies } : {}),
    };
    restoreJob = { ...restoreRequest, requestDigest: drillRestoreDigest(drillId, restoreRequest) };
    const volumeRestore = policy.restoreVolumes
      ? guardedVolumes(deps.volumes, http, catalog)
      : undefined;
    const restoreDeps = {
      http,
      store: deps.store,
      ...(deps.sealer ? { sealer: deps.sealer } : {}),
      ...(deps.requireAuthenticated ? { requireAuthenticated: true } : {}),
      ...(volumeRestore ? { volumes: volumeRestore } : {}),
      onProgress: (done: number, total: number) =>
        progress(`drill ${drillId}: ${done}/${total} objects restored`),
    };
    for (;;) {
      const step = await runRestoreStep(
        restoreDeps,
        restoreJob,
        Deadline.at(Math.min(Date.now() + STEP_MS, timeoutAt)),
      );
      if (step.status === 'done') {
        restore = step.report;
        break;
      }
      if (Date.now() > timeoutAt) {
        if (timeoutAt < policyTimeoutAt) {
          // The invocation's budget, not the policy's: the next invocation resumes the restore.
          http.close();
          progress(`drill ${drillId}: ${step.done}/${step.total} objects restored; continuing`);
          return { status: 'continue', done: step.done, total: step.total };
        }
        throw new PermanentError(
          `the restore had not finished after the policy's ${policy.timeoutSeconds}s (${step.done}/${step.total} objects)`,
        );
      }
    }
    progress(`drill ${drillId}: restore ${restore.phase}; verifying`);
    objects = await verifyObjects(http, deps.store, catalog, restoreJob, restore, deps.sealer);
    if (policy.restoreVolumes) {
      volumes = await verifyVolumes(
        http,
        deps.disks,
        catalog,
        restoreJob,
        restore,
        deps.bindTimeoutMs ?? 60_000,
      );
    }
    verifiedAt = new Date().toISOString();
  } catch (error) {
    stopped.push(errorMessage(error));
  }
  const rtoSeconds =
    verifiedAt === undefined
      ? undefined
      : Math.round((Date.parse(verifiedAt) - Date.parse(requestedAt)) / 100) / 10;
  let cleanup = { objectsDeleted: 0, disksDeleted: 0, leftBehind: [] as string[] };
  if (http) {
    progress(`drill ${drillId}: cleaning up`);
    try {
      cleanup = await cleanUpDrill(
        http,
        deps.disks,
        catalog,
        drillId,
        restoreId,
        restoredDiskCandidates(
          catalog,
          restoreId,
          restoreJob?.options.targetProject,
          (restore?.volumes ?? []).flatMap((v) => (v.disk ? [v.disk] : [])),
        ),
        deps.cleanupTimeoutMs ?? 300_000,
      );
    } catch (error) {
      cleanup.leftBehind.push(`cleanup stopped: ${errorMessage(error)}`);
    } finally {
      http.close();
    }
  }
  if (restoreJob && !restore) {
    // A restore stopped half-way (the policy's timeout, an error) is never resumed by a drill.
    cleanup.leftBehind.push(...(await abandonDrillRestore(deps.store, restoreJob)));
  }
  const { verdict, reasons } = drillVerdict({
    criteria,
    restoreVolumes: policy.restoreVolumes,
    stopped,
    restoreErrors: restore?.errors ?? [],
    failedObjects: objects?.failedObjects ?? [],
    compared: (objects?.compared ?? 0) - (objects?.comparedInPlace ?? 0),
    mismatches: objects?.mismatches ?? [],
    volumes,
    ...(rtoSeconds !== undefined ? { rtoSeconds } : {}),
    timeoutSeconds: policy.timeoutSeconds,
    leftBehind: cleanup.leftBehind,
  });
  const report: DrillReport = {
    apiVersion: API_VERSION,
    kind: 'DrillReport',
    drillId,
    policy: policy.name,
    source: source ?? policy.drillCluster,
    ...(catalog ? { backupId: catalog.backupId } : job.backupId ? { backupId: job.backupId } : {}),
    drillCluster: policy.drillCluster,
    restoreId,
    verdict,
    requestedAt,
    ...(verifiedAt ? { verifiedAt } : {}),
    completedAt: new Date().toISOString(),
    ...(rtoSeconds !== undefined ? { rtoSeconds } : {}),
    namespaces,
    ...(restore ? { restorePhase: restore.phase, restoreCounts: restore.counts } : {}),
    objects: {
      compared: objects?.compared ?? 0,
      equal: objects?.equal ?? 0,
      comparedInPlace: objects?.comparedInPlace ?? 0,
      mismatches: objects?.mismatches ?? [],
    },
    volumes,
    cleanup: { objectsDeleted: cleanup.objectsDeleted, disksDeleted: cleanup.disksDeleted },
    reasons,
    leftBehind: cleanup.leftBehind,
  };
  await writeDrillReport(deps.store, report);
  progress(`drill ${drillId}: ${verdict}`);
  return { status: 'done', report };
}
