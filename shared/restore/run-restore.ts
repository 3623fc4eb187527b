import type { Catalog, PackEntry } from '../catalog/catalog-schema.js';
import { canonicalJson, sha256 } from '../catalog/canonical.js';
import { Layout } from '../catalog/layout.js';
import type { OpenedPack } from '../catalog/pack-reader.js';
import type { ObjectRef } from '../catalog/pack.js';
import { mapLimit } from '../concurrency.js';
import type { Sealer } from '../crypto/sealer.js';
import { errorMessage, isRetryable, PermanentError } from '../errors.js';
import { API_VERSION, type ClusterRef } from '../messages/common.js';
import type { RestoreNarrowing, RestoreOptions } from '../messages/restore.js';
import type { KubeHttp } from '../kube/kube-http.js';
import { getIfPresent, type ObjectStore } from '../store/object-store.js';
import { Deadline } from '../time/deadline.js';
import { poll } from '../time/retry.js';
import { applyObject, probeObject, waitEstablished } from './apply-object.js';
import { readVerifiedCatalog } from '../catalog/load-backup.js';
import { leaseBackup, releaseLease } from '../catalog/backup-lease.js';
import { CRD_WAVE } from './order.js';
import { fixOwnerReferences } from './owners.js';
import { countOutcomes, type ObjectOutcome, type RestoreReport } from './report.js';
import {
  decide,
  describe,
  describePlanned,
  fetchPack,
  itemKey,
  planRestore,
  type PlanResult,
  type RestorePlan,
} from './restore-plan.js';
import type { VolumeRestore } from './restore-volume.js';
import { advanceVolumes, type VolumeProgress } from './volume-step.js';

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

interface RestoreProgress extends VolumeProgress {
  /** The digest of the request this restore id belongs to (restoreContentDigest). */
  requestDigest?: string;
  startedAt: string;
  /** How many planned objects (in plan order) have an outcome. */
  done: number;
  /**
   * Every object's outcome so far, skipped ones first: the report's list,
   * about 110 bytes of JSON per object (11 MB at 100,000 objects).
   */
  outcomes: ObjectOutcome[];
  errors: string[];
  /** Made by the first step; absent in a bare claim and in progress saved by earlier versions. */
  plan?: RestorePlan;
}

/** Whether a restore has begun work that a refusal must not discard. */
const begun = (p: RestoreProgress | undefined): boolean =>
  p !== undefined && (p.done > 0 || p.plan !== undefined || p.volumesStartedAt !== undefined);

/** Objects applied between two looks at the clock. */
const CHUNK = 1000;
/** A chunk reads at most this many packs (and so holds at most their bytes). */
const CHUNK_PACKS = 4;

export type RestoreStep =
  { status: 'done'; report: RestoreReport } | { status: 'continue'; done: number; total: number };

/**
 * Restores a backup into a cluster from its catalog alone. Everything is
 * verified before the first write: the catalog, its seal, and every pack,
 * read once by the first step to plan the restore (restore-plan.ts); the
 * plan keeps where each object is, not the object. Volumes come first, in
 * parallel; then objects go in dependency waves with bounded parallelism,
 * their packs read again a few at a time (and verified again: a pack
 * changed since fails its objects). One failure never stops the rest; the
 * report says what happened to every object and is written to the store.
 *
 * One step runs until `deadline`, then saves its progress (with the plan)
 * in the store and returns `continue`: the pipeline chains steps so no
 * invocation nears the function time limit. A redelivered step resumes from
 * the saved progress, and objects an earlier attempt created are recognised
 * by label.
 */
export async function runRestoreStep(
  deps: RestoreDeps,
  job: RestoreJob,
  deadline = Deadline.none(),
): Promise<RestoreStep> {
  const progressKey = Layout.restoreProgress(job.restoreId);
  const digest = jobDigest(job);
  const claimed = await claimRestoreId(deps.store, job.restoreId, digest);
  // Progress saved by an earlier step; a bare claim (nothing begun yet) starts afresh.
  const saved = begun(claimed) ? claimed : undefined;
  let catalog: Catalog;
  let planned: PlanResult | undefined;
  try {
    // Leased before it is read: retention keeps the backup until the restore ends (or the lease lapses).
    await leaseBackup(deps.store, job.source, job.backupId, job.restoreId);
    ({ catalog } = await readVerifiedCatalog(deps.store, job.source, job.backupId, {
      ...(deps.sealer ? { sealer: deps.sealer } : {}),
      ...(deps.requireAuthenticated ? { requireAuthenticated: true } : {}),
    }));
    const policy = catalog.policy.name;
    if (job.backupPolicies && !job.backupPolicies.includes(policy)) {
      throw new PermanentError(
        `Backup ${job.backupId} was taken under policy ${policy}; this restore may only restore backups of ${job.backupPolicies.join(', ')}`,
      );
    }
    // A plan is made once, by reading every pack; later steps read only what they apply.
    if (saved?.plan?.catalogDigest !== catalog.digest) {
      planned = await planRestore(deps.store, catalog, job, deps.sealer);
    }
  } catch (error) {
    // Refused before anything was applied: the bare claim goes, so the id does not read as running.
    if (!isRetryable(error) && !begun(claimed)) {
      await deleteQuietly(deps.store, progressKey);
      await deleteQuietly(deps.store, Layout.lease(job.source, job.backupId, job.restoreId));
    }
    throw error;
  }
  const startedAt = claimed?.startedAt ?? new Date().toISOString();
  if (planned && planned.unopened.length > 0) {
    const { skipped, unopened } = planned;
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
  const progress: RestoreProgress = saved
    ? // Progress of an earlier version (no plan) already lists the skipped objects.
      { ...saved, ...(planned ? { plan: planned.plan } : {}) }
    : {
        requestDigest: digest,
        startedAt,
        done: 0,
        outcomes: [...(planned?.skipped ?? [])],
        errors: [],
        volumes: [],
        ...(planned ? { plan: planned.plan } : {}),
      };
  const plan = progress.plan!;
  const total = plan.names.length;
  const save = async (): Promise<RestoreStep> => {
    await deps.store.put(progressKey, JSON.stringify(progress));
    return { status: 'continue', done: progress.done, total };
  };
  if (deps.volumes && !job.options.dryRun && !progress.volumesSettled) {
    // Volumes of an earlier version's step were redone each step: their outcomes come again.
    if (progress.volumesStartedAt === undefined) progress.volumes = [];
    const settled = await advanceVolumes(
      deps.volumes,
      catalog,
      job,
      plan.volumeObjects,
      progress,
      deadline,
    );
    if (!settled) return save();
  }
  const owners = plan.kinds.map((ref) => ({ ref }));
  const packs = new ChunkPacks(deps.store, catalog);
  while (progress.done < total) {
    const wave = plan.order[progress.done * 3]!;
    const end = chunkEnd(plan, progress.done);
    await applyChunk(deps, job, plan, owners, packs, progress, end);
    progress.done = end;
    deps.onProgress?.(progress.done, total);
    const waveFinished = end === total || plan.order[end * 3] !== wave;
    if (waveFinished && wave === CRD_WAVE && !job.options.dryRun) {
      await mapLimit(plan.crds, 8, async (name) => {
        try {
          await waitEstablished(deps.http, name);
        } catch (error) {
          progress.errors.push(errorMessage(error));
        }
      });
    }
    if (progress.done < total && deadline.expired()) return save();
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

/** Where the chunk starting at `from` ends: one wave, at most CHUNK objects and CHUNK_PACKS packs. */
function chunkEnd(plan: RestorePlan, from: number): number {
  const total = plan.names.length;
  const wave = plan.order[from * 3];
  let packs = 0;
  let lastPack = -1;
  let end = from;
  while (end < total && end - from < CHUNK && plan.order[end * 3] === wave) {
    const pack = plan.order[end * 3 + 1]!;
    if (pack !== lastPack) {
      if (packs === CHUNK_PACKS) break;
      packs += 1;
      lastPack = pack;
    }
    end++;
  }
  return end;
}

/**
 * The packs a chunk reads, each read and verified again; the last one is
 * kept for the next chunk, which usually goes on in the same pack. A pack
 * that no longer verifies (changed or gone since the plan read it) is an
 * Error that fails the chunk's objects in it.
 */
class ChunkPacks {
  private held = new Map<number, OpenedPack | Error>();

  constructor(
    private readonly store: ObjectStore,
    private readonly catalog: Catalog,
  ) {}

  entry(pack: number): PackEntry {
    return this.catalog.packs[pack]!;
  }

  async open(packs: readonly number[]): Promise<Map<number, OpenedPack | Error>> {
    const opened = new Map<number, OpenedPack | Error>();
    for (const pack of packs) opened.set(pack, this.held.get(pack) ?? (await this.read(pack)));
    this.held = new Map([...opened].slice(-1));
    return opened;
  }

  private async read(pack: number): Promise<OpenedPack | Error> {
    const entry = this.entry(pack);
    try {
      return await fetchPack(this.store, this.catalog.backupId, entry);
    } catch (error) {
      if (isRetryable(error)) throw error;
      return new Error(
        `pack ${entry.digest} no longer verifies as it did before the restore's first write: ${errorMessage(error)}`,
      );
    }
  }
}

async function applyChunk(
  deps: RestoreDeps,
  job: RestoreJob,
  plan: RestorePlan,
  owners: readonly { ref: ObjectRef }[],
  packs: ChunkPacks,
  progress: RestoreProgress,
  end: number,
): Promise<void> {
  const positions = Array.from({ length: end - progress.done }, (_, i) => progress.done + i);
  const opened = await packs.open([...new Set(positions.map((at) => plan.order[at * 3 + 1]!))]);
  await mapLimit(positions, job.options.parallelism, async (at) => {
    const packIndex = plan.order[at * 3 + 1]!;
    const recordIndex = plan.order[at * 3 + 2]!;
    const pack = opened.get(packIndex)!;
    let base = describePlanned(packs.entry(packIndex), plan.names[at]!);
    try {
      if (pack instanceof Error) throw pack;
      const record = pack.record(recordIndex);
      const decision = decide(record, job, deps.sealer);
      if (decision.kind !== 'planned') {
        throw new Error(`no longer restorable as planned: ${decision.outcome.reason ?? ''}`);
      }
      let object = decision.object;
      base = describe(record, object);
      const volumeObject = progress.volumeObjects?.[itemKey(packIndex, recordIndex)];
      if (volumeObject === null) {
        progress.outcomes.push({
          ...base,
          outcome: 'failed',
          reason: 'its volume data could not be restored (see volumes)',
        });
        return;
      }
      if (volumeObject) object = volumeObject;
      if (job.options.dryRun) {
        progress.outcomes.push({
          ...base,
          outcome: await probeObject(deps.http, record.ref, object),
        });
        return;
      }
      if (object.metadata.ownerReferences?.length) {
        object = await fixOwnerReferences(deps.http, object, owners);
      }
      const result = await applyObject(
        deps.http,
        record.ref,
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
  const body = await getIfPresent(store, key);
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (error) {
    throw new PermanentError(`${key} is not valid JSON: ${errorMessage(error)}`);
  }
}

/**
 * A whole restore in one process: steps with no deadline, so only volumes
 * that meet a passing failure hand over, tried again a moment later.
 */
export async function runRestore(deps: RestoreDeps, job: RestoreJob): Promise<RestoreReport> {
  const report = await poll(Deadline.none(), 1000, async () => {
    const step = await runRestoreStep(deps, job);
    return step.status === 'done' ? step.report : undefined;
  });
  // Only a deadline ends a poll before its result, and this one has none.
  return report!;
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
    apiVersion: API_VERSION,
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
