import type { Catalog } from '../catalog/catalog-schema.js';
import { Layout } from '../catalog/layout.js';
import type { PackRecord } from '../catalog/pack.js';
import { mapLimit } from '../concurrency.js';
import type { Sealer } from '../crypto/sealer.js';
import { errorMessage } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';
import type { RestoreOptions } from '../messages/restore.js';
import { qualifiedName } from '../kube/discovery.js';
import { resourceSelected, selected } from '../kube/filters.js';
import type { KubeHttp } from '../kube/kube-http.js';
import { managedReason } from '../kube/ownership.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { ObjectStore } from '../store/object-store.js';
import { applyObject, probeObject, waitEstablished } from './apply-object.js';
import { loadBackup, manifestOf } from './load-backup.js';
import { CRD_WAVE, waveOf } from './order.js';
import { fixOwnerReferences } from './owners.js';
import { countOutcomes, type ObjectOutcome, type RestoreReport } from './report.js';
import { applyTransformations, mapNamespaces } from './transform.js';
import type { VolumeRestore } from './volume-restore.js';

export interface RestoreDeps {
  http: KubeHttp;
  store: ObjectStore;
  sealer?: Sealer;
  volumes?: VolumeRestore;
  onProgress?: (done: number, total: number) => void;
}

export interface RestoreJob {
  restoreId: string;
  source: ClusterRef;
  backupId: string;
  target: ClusterRef;
  options: RestoreOptions;
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
): { planned: Planned[]; skipped: ObjectOutcome[] } {
  const o = job.options;
  const skipped: ObjectOutcome[] = [];
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
    if (sourceNs !== undefined && !selected(sourceNs, o.includeNamespaces, o.excludeNamespaces)) {
      skip('namespace not selected for this restore');
      continue;
    }
    if (!resourceSelected({ ...ref }, o.includeResources, o.excludeResources)) {
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
      skipped.push({
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
  return { planned, skipped };
}

/**
 * Restores a backup into a cluster from its catalog alone. Everything is
 * verified before the first write; objects go in dependency waves with
 * bounded parallelism; one failure never stops the rest; the report says
 * what happened to every object and is written to the store.
 */
export async function runRestore(deps: RestoreDeps, job: RestoreJob): Promise<RestoreReport> {
  const startedAt = new Date().toISOString();
  const { catalog, records } = await loadBackup(deps.store, job.source, job.backupId);
  const { planned, skipped } = planObjects(records, job, deps.sealer);
  const outcomes: ObjectOutcome[] = [...skipped];
  const errors: string[] = [];
  const volumes =
    deps.volumes && !job.options.dryRun
      ? await deps.volumes.prepare(
          catalog,
          planned.map((p) => p.object),
          job,
        )
      : [];
  const waves = [...new Set(planned.map((p) => p.wave))].sort((a, b) => a - b);
  let done = 0;
  for (const wave of waves) {
    const items = planned.filter((p) => p.wave === wave);
    await mapLimit(items, job.options.parallelism, async (item) => {
      const base = describe(item.record, item.object);
      try {
        if (job.options.dryRun) {
          outcomes.push({
            ...base,
            outcome: await probeObject(deps.http, item.record.ref, item.object),
          });
        } else {
          const object = item.object.metadata.ownerReferences?.length
            ? await fixOwnerReferences(deps.http, item.object, records)
            : item.object;
          outcomes.push({
            ...base,
            ...(await applyObject(deps.http, item.record.ref, object, job.options.conflictPolicy)),
          });
        }
      } catch (error) {
        outcomes.push({ ...base, outcome: 'failed', reason: errorMessage(error) });
      }
      deps.onProgress?.(++done, planned.length);
    });
    if (wave === CRD_WAVE && !job.options.dryRun) {
      await mapLimit(items, 8, async (item) => {
        try {
          await waitEstablished(deps.http, item.object.metadata.name);
        } catch (error) {
          errors.push(errorMessage(error));
        }
      });
    }
  }
  return finish(deps.store, job, catalog, startedAt, outcomes, errors, volumes);
}

async function finish(
  store: ObjectStore,
  job: RestoreJob,
  catalog: Catalog,
  startedAt: string,
  outcomes: ObjectOutcome[],
  errors: string[],
  volumes: RestoreReport['volumes'],
): Promise<RestoreReport> {
  const counts = countOutcomes(outcomes);
  const failedVolumes = volumes.filter((v) => v.outcome === 'failed').length;
  const failures = counts.failed + failedVolumes + errors.length;
  const succeeded = counts.restored + counts.replaced + counts['would-restore'];
  const report: RestoreReport = {
    apiVersion: 'lifeboat.dev/v1',
    kind: 'RestoreReport',
    restoreId: job.restoreId,
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
  return report;
}
