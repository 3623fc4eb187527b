import type { Catalog } from '../catalog/catalog-schema.js';
import { canonicalJson, sha256 } from '../catalog/canonical.js';
import { Layout } from '../catalog/layout.js';
import type { PackRecord } from '../catalog/pack.js';
import { mapLimit } from '../concurrency.js';
import type { Sealer } from '../crypto/sealer.js';
import { errorMessage, isRetryable, NotFoundError, PermanentError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { RestoreNarrowing, RestoreOptions } from '../messages/restore.js';
import { qualifiedName } from '../kube/discovery.js';
import { resourceSelected, selected } from '../kube/filters.js';
import type { KubeHttp } from '../kube/kube-http.js';
import { managedReason } from '../kube/ownership.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { ObjectStore } from '../store/object-store.js';
import { applyObject, probeObject, waitEstablished } from './apply-object.js';
import { loadBackup, manifestOf } from './load-backup.js';
import { leaseBackup, releaseLease } from '../catalog/backup-lease.js';
import { CRD_WAVE, waveOf } from './order.js';
import { fixOwnerReferences } from './owners.js';
import { countOutcomes, type ObjectOutcome, type RestoreReport } from './report.js';
import { applyTransformations, mapNamespaces } from './transform.js';
import type { VolumeRestore } from './volume-restore.js';

export interface RestoreDeps {
  http: KubeHttp;
  store: ObjectStore;
  sealer?: Sealer;
  /** Restore only a catalog sealed with the data key (every restore the pipeline runs). */
  requireAuthenticated?: boolean;
  volumes?: VolumeRestore;
  onProgress?: (done: number, total: number) => void;
}

export interface RestoreJob {
  restoreId: string;
  source: ClusterRef;
  backupId: string;
  target: ClusterRef;
  options: RestoreOptions;
  /** Only a backup taken under one of these policies may be restored (the restore plan's rule). */
  backupPolicies?: readonly string[];
  /** A request's narrowing of its plan's options: both must select an object. */
  narrowing?: RestoreNarrowing;
  /**
   * What identifies the request behind this restore id (see restoreContentDigest);
   * default: the digest of source, backupId, target and options.
   */
  requestDigest?: string;
}

/**
 * The SHA-256 of a restore request's content (canonical JSON): what makes a
 * redelivery of the same request recognisable, and a different request
 * reusing its restore id refusable.
 */
export function restoreContentDigest(content: unknown): string {
  return sha256(canonicalJson(content));
}

function jobDigest(job: RestoreJob): string {
  return (
    job.requestDigest ??
    restoreContentDigest({
      source: job.source,
      backupId: job.backupId,
      target: job.target,
      options: job.options,
      ...(job.narrowing ? { narrowing: job.narrowing } : {}),
    })
  );
}

interface Planned {
  record: PackRecord;
  object: KubeObject;
  wave: number;
}

function describe(record: PackRecord, obj: KubeObject | undefined): Omit<ObjectOutcome, 'outcome'> {
  const ns = obj?.metadata.namespace ?? record.ref.namespace;
  return {
    resource: qualifiedName(record.ref),
    kind: record.ref.kind,
    ...(ns !== undefined ? { namespace: ns } : {}),
    name: obj?.metadata.name ?? record.ref.name,
  };
}

/** Decides, for every object of the backup, whether and how it is restored. */
function planObjects(
  records: PackRecord[],
  job: RestoreJob,
  sealer: Sealer | undefined,
): { planned: Planned[]; skipped: ObjectOutcome[]; unopened: ObjectOutcome[] } {
  const o = job.options;
  const skipped: ObjectOutcome[] = [];
  const unopened: ObjectOutcome[] = [];
  const planned: Planned[] = [];
  const customGroups = new Set(
    records
      .filter((r) => r.ref.kind === 'CustomResourceDefinition')
      .map((r) => (r.object?.['spec'] as { group?: string } | undefined)?.group ?? ''),
  );
  for (const record of records) {
    const { ref } = record;
    const sourceNs = ref.kind === 'Namespace' ? ref.name : ref.namespace;
    const skip = (reason: string): void =>
      void skipped.push({ ...describe(record, undefined), outcome: 'skipped', reason });
    const n = job.narrowing ?? {};
    if (
      sourceNs !== undefined &&
      !(
        selected(sourceNs, o.includeNamespaces, o.excludeNamespaces) &&
        selected(sourceNs, n.includeNamespaces ?? ['*'], n.excludeNamespaces ?? [])
      )
    ) {
      skip('namespace not selected for this restore');
      continue;
    }
    if (
      !resourceSelected({ ...ref }, o.includeResources, o.excludeResources) ||
      !resourceSelected({ ...ref }, n.includeResources ?? ['*'], n.excludeResources ?? [])
    ) {
      skip('resource not selected for this restore');
      continue;
    }
    if (ref.resource === 'persistentvolumes' && o.volumeDataPolicy === 'no-volume-data') {
      skip('volume data policy no-volume-data: claims are provisioned afresh');
      continue;
    }
    let object: KubeObject;
    try {
      object = manifestOf(record, sealer);
    } catch (error) {
      // A sealed Secret that does not open (no key, another key, an altered blob): the restore
      // cannot finish, so it is refused before its first write (see runRestoreStep).
      unopened.push({
        ...describe(record, undefined),
        outcome: 'failed',
        reason: errorMessage(error),
      });
      continue;
    }
    const managed = managedReason(object, qualifiedName(ref));
    if (managed && !(o.restoreOwnedObjects && record.ref.owner)) {
      skip(managed);
      continue;
    }
    if (ref.resource === 'persistentvolumeclaims' && o.volumeDataPolicy === 'no-volume-data') {
      delete (object['spec'] as { volumeName?: string }).volumeName;
    }
    try {
      object = applyTransformations(
        o.transformations,
        ref,
        mapNamespaces(object, o.namespaceMapping),
      );
    } catch (error) {
      skipped.push({ ...describe(record, object), outcome: 'failed', reason: errorMessage(error) });
      continue;
    }
    const hasOwners = (object.metadata.ownerReferences?.length ?? 0) > 0;
    planned.push({ record, object, wave: waveOf(ref, hasOwners, customGroups) });
  }
  return { planned, skipped, unopened };
}

interface RestoreProgress {
  /** The digest of the request this restore id belongs to (restoreContentDigest). */
  requestDigest?: string;
  startedAt: string;
  /** How many planned objects (in wave order) have an outcome. */
  done: number;
  outcomes: ObjectOutcome[];
  errors: string[];
  volumes: RestoreReport['volumes'];
}

/** Objects applied between two looks at the clock. */
const CHUNK = 1000;

export type RestoreStep =
  { status: 'done'; report: RestoreReport } | { status: 'continue'; done: number; total: number };

/**
 * Restores a backup into a cluster from its catalog alone. Everything is
 * verified before the first write; objects go in dependency waves with
 * bounded parallelism; one failure never stops the rest; the report says
 * what happened to every object and is written to the store.
 *
 * One step runs until `deadline`, then saves its progress in the store
 * and returns `continue`: the pipeline chains steps so no invocation nears
 * the function time limit. A redelivered step resumes from the saved
 * progress, and objects an earlier attempt created are recognised by label.
 */
export async function runRestoreStep(
  deps: RestoreDeps,
  job: RestoreJob,
  deadline = Infinity,
): Promise<RestoreStep> {
  const progressKey = Layout.restoreProgress(job.restoreId);
  const digest = jobDigest(job);
  const claimed = await claimRestoreId(deps.store, job.restoreId, digest);
  let loaded;
  try {
    // Leased before it is read: retention keeps the backup until the restore ends (or the lease lapses).
    await leaseBackup(deps.store, job.source, job.backupId, job.restoreId);
    loaded = await loadBackup(deps.store, job.source, job.backupId, {
      ...(deps.sealer ? { sealer: deps.sealer } : {}),
      ...(deps.requireAuthenticated ? { requireAuthenticated: true } : {}),
    });
    const policy = loaded.catalog.policy.name;
    if (job.backupPolicies && !job.backupPolicies.includes(policy)) {
      throw new PermanentError(
        `Backup ${job.backupId} was taken under policy ${policy}; this restore may only restore backups of ${job.backupPolicies.join(', ')}`,
      );
    }
  } catch (error) {
    // Refused before anything was applied: the bare claim goes, so the id does not read as running.
    if (!isRetryable(error) && !(claimed && claimed.done > 0)) {
      await deleteQuietly(deps.store, progressKey);
      await deleteQuietly(deps.store, Layout.lease(job.source, job.backupId, job.restoreId));
    }
    throw error;
  }
  const { catalog, records } = loaded;
  const { planned: unordered, skipped, unopened } = planObjects(records, job, deps.sealer);
  // Progress saved by an earlier step; a bare claim (nothing applied yet) starts afresh.
  const saved = claimed && claimed.done > 0 ? claimed : undefined;
  const startedAt = claimed?.startedAt ?? new Date().toISOString();
  if (unopened.length > 0) {
    // Verified before the first write: nothing (no disk, no object) is created by a restore
    // that could not put back every selected Secret.
    const report = await finish(
      deps.store,
      job,
      catalog,
      startedAt,
      [...skipped, ...unopened],
      [
        `restore refused before any write: ${unopened.length} selected sealed record(s) cannot be opened; ` +
          `first: ${unopened[0]!.namespace ?? ''}/${unopened[0]!.name}: ${unopened[0]!.reason ?? ''}`,
      ],
      [],
      digest,
    );
    await deps.store.delete(progressKey);
    return { status: 'done', report };
  }
  const planned = unordered
    .map((p, i) => ({ ...p, i }))
    .sort((a, b) => a.wave - b.wave || a.i - b.i);
  const progress: RestoreProgress = saved ?? {
    requestDigest: digest,
    startedAt,
    done: 0,
    outcomes: [...skipped],
    errors: [],
    volumes: [],
  };
  let drop = new Set<KubeObject>();
  if (deps.volumes && !job.options.dryRun) {
    // Idempotent: disks of an earlier step are adopted; PV objects are rewritten in place again.
    const prepared = await deps.volumes.prepare(
      catalog,
      planned.map((p) => p.object),
      job,
    );
    drop = prepared.drop;
    if (!saved) progress.volumes = prepared.volumes;
  }
  while (progress.done < planned.length) {
    const wave = planned[progress.done]!.wave;
    let end = progress.done;
    while (end < planned.length && planned[end]!.wave === wave && end - progress.done < CHUNK)
      end++;
    await applyChunk(deps, job, records, planned.slice(progress.done, end), progress, drop);
    progress.done = end;
    deps.onProgress?.(progress.done, planned.length);
    const waveFinished = end === planned.length || planned[end]!.wave !== wave;
    if (waveFinished && wave === CRD_WAVE && !job.options.dryRun) {
      await mapLimit(
        planned.filter((p) => p.wave === CRD_WAVE),
        8,
        async (item) => {
          try {
            await waitEstablished(deps.http, item.object.metadata.name);
          } catch (error) {
            progress.errors.push(errorMessage(error));
          }
        },
      );
    }
    if (progress.done < planned.length && Date.now() > deadline) {
      await deps.store.put(progressKey, JSON.stringify(progress));
      return { status: 'continue', done: progress.done, total: planned.length };
    }
  }
  const report = await finish(
    deps.store,
    job,
    catalog,
    progress.startedAt,
    progress.outcomes,
    progress.errors,
    progress.volumes,
    digest,
  );
  await deps.store.delete(progressKey);
  return { status: 'done', report };
}

async function applyChunk(
  deps: RestoreDeps,
  job: RestoreJob,
  records: PackRecord[],
  items: Planned[],
  progress: RestoreProgress,
  drop: Set<KubeObject>,
): Promise<void> {
  await mapLimit(items, job.options.parallelism, async (item) => {
    const base = describe(item.record, item.object);
    if (drop.has(item.object)) {
      progress.outcomes.push({
        ...base,
        outcome: 'failed',
        reason: 'its volume data could not be restored (see volumes)',
      });
      return;
    }
    try {
      if (job.options.dryRun) {
        progress.outcomes.push({
          ...base,
          outcome: await probeObject(deps.http, item.record.ref, item.object),
        });
        return;
      }
      const object = item.object.metadata.ownerReferences?.length
        ? await fixOwnerReferences(deps.http, item.object, records)
        : item.object;
      const result = await applyObject(
        deps.http,
        item.record.ref,
        object,
        job.options.conflictPolicy,
        job.restoreId,
        { restoreStatus: job.options.restoreStatus !== false },
      );
      progress.outcomes.push({ ...base, ...result });
    } catch (error) {
      progress.outcomes.push({ ...base, outcome: 'failed', reason: errorMessage(error) });
    }
  });
}

/**
 * Makes the restore id this request's: a first request records its digest
 * with the progress (created only if absent, so of two racing requests one
 * wins); a redelivery of the same request finds its own digest and goes on
 * (returning the saved progress); a request with other content under an id
 * already running or finished is refused, and the first's report is kept.
 * A report written before digests were recorded cannot be matched: refused.
 */
async function claimRestoreId(
  store: ObjectStore,
  restoreId: string,
  digest: string,
): Promise<RestoreProgress | undefined> {
  const progressKey = Layout.restoreProgress(restoreId);
  const refuse = (what: string): never => {
    throw new PermanentError(
      `Restore ${restoreId} refused: that restore id ${what} for a request with other content; ` +
        'a new restore needs a new restore id',
    );
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const saved = await readJson<RestoreProgress>(store, progressKey);
    if (saved) {
      // Progress saved before digests were recorded belongs to a restore already running: it goes on.
      if (saved.requestDigest !== undefined && saved.requestDigest !== digest)
        refuse('is already running');
      return saved;
    }
    const report = await readJson<RestoreReport>(store, Layout.report(restoreId));
    if (report && report.requestDigest !== digest) refuse(`already finished (${report.phase})`);
    const claim: RestoreProgress = {
      requestDigest: digest,
      startedAt: new Date().toISOString(),
      done: 0,
      outcomes: [],
      errors: [],
      volumes: [],
    };
    if (await store.createIfAbsent(progressKey, JSON.stringify(claim))) return claim;
    // Another delivery claimed it in between: look again at what it recorded.
  }
  throw new PermanentError(`Restore ${restoreId}: its progress keeps changing; refused`);
}

async function deleteQuietly(store: ObjectStore, key: string): Promise<void> {
  try {
    await store.delete(key);
  } catch {
    // Best effort: a claim left behind only makes the id read as running.
  }
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  let body: Buffer;
  try {
    body = await store.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (error) {
    throw new PermanentError(`${key} is not valid JSON: ${errorMessage(error)}`);
  }
}

/** A whole restore in one process: steps with no deadline. */
export async function runRestore(deps: RestoreDeps, job: RestoreJob): Promise<RestoreReport> {
  const step = await runRestoreStep(deps, job);
  if (step.status !== 'done') throw new Error('a restore without a deadline always finishes');
  return step.report;
}

async function finish(
  store: ObjectStore,
  job: RestoreJob,
  catalog: Catalog,
  startedAt: string,
  outcomes: ObjectOutcome[],
  errors: string[],
  volumes: RestoreReport['volumes'],
  requestDigest: string,
): Promise<RestoreReport> {
  const counts = countOutcomes(outcomes);
  const failedVolumes = volumes.filter((v) => v.outcome === 'failed').length;
  const failures = counts.failed + failedVolumes + errors.length;
  const succeeded = counts.restored + counts.replaced + counts['would-restore'];
  const report: RestoreReport = {
    apiVersion: 'lifeboat.dev/v1',
    kind: 'RestoreReport',
    restoreId: job.restoreId,
    requestDigest,
    backupId: catalog.backupId,
    source: catalog.cluster,
    target: job.target,
    dryRun: job.options.dryRun,
    phase: failures === 0 ? 'Completed' : succeeded > 0 ? 'PartiallyFailed' : 'Failed',
    startedAt,
    completedAt: new Date().toISOString(),
    counts,
    volumes,
    errors,
    outcomes: outcomes.sort((a, b) =>
      `${a.resource}/${a.namespace ?? ''}/${a.name}`.localeCompare(
        `${b.resource}/${b.namespace ?? ''}/${b.name}`,
      ),
    ),
  };
  await store.put(Layout.report(job.restoreId), JSON.stringify(report, null, 1));
  await releaseLease(store, job.source, job.backupId, job.restoreId);
  return report;
}
