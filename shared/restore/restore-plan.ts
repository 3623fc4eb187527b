import type { Catalog, PackEntry } from '../catalog/catalog-schema.js';
import { openPack, type OpenedPack } from '../catalog/pack-reader.js';
import { isSecretRef, readPackBytes } from '../catalog/read-pack.js';
import type { ObjectRef, PackRecord } from '../catalog/pack.js';
import { mapLimit } from '../concurrency.js';
import type { Sealer } from '../crypto/sealer.js';
import { errorMessage, PermanentError } from '../errors.js';
import { qualifiedName } from '../kube/discovery.js';
import { resourceSelected, selected } from '../kube/filters.js';
import { managedReason } from '../kube/ownership.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { ObjectStore } from '../store/object-store.js';
import { manifestOf } from '../catalog/load-backup.js';
import { waveOf } from './order.js';
import type { ObjectOutcome } from './report.js';
import type { RestoreJob } from './run-restore.js';
import { applyTransformations, mapNamespaces } from './transform.js';

/**
 * What a restore does, decided once from a full read of the backup and
 * saved with its progress: no record is kept, only where each planned
 * object is (pack and record index) and what a step needs without reading
 * packs (its wave, its name, the owners' kinds, the volumes' PV and PVC).
 * At 100,000 objects it is a few MB.
 */
export interface RestorePlan {
  /** The catalog planned from: a plan is only used with that very catalog. */
  catalogDigest: string;
  /** Planned objects in apply order, three numbers each: wave, pack (index in catalog.packs), record. */
  order: number[];
  /** Per planned object, its name in the target: `namespace/name`, or `name` when cluster-scoped. */
  names: string[];
  /** One ref per kind and group in the backup: what owner references are resolved against. */
  kinds: ObjectRef[];
  /** Names of the CRDs the restore creates, waited on until established. */
  crds: string[];
  /** The planned PVs and PVCs of the catalog's volumes, before volume restore rewrites them, by itemKey. */
  volumeObjects: Record<string, KubeObject>;
}

export interface PlanResult {
  plan: RestorePlan;
  skipped: ObjectOutcome[];
  /** Selected sealed records that cannot be opened: the restore is refused before any write. */
  unopened: ObjectOutcome[];
}

export const itemKey = (pack: number, record: number): string => `${pack}:${record}`;

export function describe(
  record: PackRecord,
  obj: KubeObject | undefined,
): Omit<ObjectOutcome, 'outcome'> {
  const ns = obj?.metadata.namespace ?? record.ref.namespace;
  return {
    resource: qualifiedName(record.ref),
    kind: record.ref.kind,
    ...(ns !== undefined ? { namespace: ns } : {}),
    name: obj?.metadata.name ?? record.ref.name,
  };
}

/** An object of the plan described from the plan alone, for when its pack cannot be read again. */
export function describePlanned(entry: PackEntry, name: string): Omit<ObjectOutcome, 'outcome'> {
  const slash = name.indexOf('/');
  return {
    resource: qualifiedName(entry.resource),
    kind: entry.resource.kind,
    ...(slash >= 0 ? { namespace: name.slice(0, slash) } : {}),
    name: slash >= 0 ? name.slice(slash + 1) : name,
  };
}

export type Decision =
  | { kind: 'skipped'; outcome: ObjectOutcome }
  | { kind: 'unopened'; outcome: ObjectOutcome }
  | { kind: 'planned'; object: KubeObject };

/** Decides whether and how one record is restored; deterministic, so a later step decides the same. */
export function decide(record: PackRecord, job: RestoreJob, sealer: Sealer | undefined): Decision {
  const o = job.options;
  const { ref } = record;
  const sourceNs = ref.kind === 'Namespace' ? ref.name : ref.namespace;
  const skip = (reason: string): Decision => ({
    kind: 'skipped',
    outcome: { ...describe(record, undefined), outcome: 'skipped', reason },
  });
  const n = job.narrowing ?? {};
  if (
    sourceNs !== undefined &&
    !(
      selected(sourceNs, o.includeNamespaces, o.excludeNamespaces) &&
      selected(sourceNs, n.includeNamespaces ?? ['*'], n.excludeNamespaces ?? [])
    )
  ) {
    return skip('namespace not selected for this restore');
  }
  if (
    !resourceSelected({ ...ref }, o.includeResources, o.excludeResources) ||
    !resourceSelected({ ...ref }, n.includeResources ?? ['*'], n.excludeResources ?? [])
  ) {
    return skip('resource not selected for this restore');
  }
  if (ref.resource === 'persistentvolumes' && o.volumeDataPolicy === 'no-volume-data') {
    return skip('volume data policy no-volume-data: claims are provisioned afresh');
  }
  let object: KubeObject;
  try {
    object = manifestOf(record, sealer);
  } catch (error) {
    // A sealed Secret that does not open (no key, another key, an altered blob): the restore
    // cannot finish, so it is refused before its first write (see runRestoreStep).
    return {
      kind: 'unopened',
      outcome: { ...describe(record, undefined), outcome: 'failed', reason: errorMessage(error) },
    };
  }
  const managed = managedReason(object, qualifiedName(ref));
  if (managed && !(o.restoreOwnedObjects && record.ref.owner)) return skip(managed);
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
    return {
      kind: 'skipped',
      outcome: { ...describe(record, object), outcome: 'failed', reason: errorMessage(error) },
    };
  }
  return { kind: 'planned', object };
}

/** Reads and verifies one pack of a backup; a missing one is named. */
export async function fetchPack(
  store: ObjectStore,
  backupId: string,
  entry: PackEntry,
): Promise<OpenedPack> {
  const gz = await readPackBytes(store, backupId, entry);
  const opened = openPack(gz, entry.digest);
  if (opened.count !== entry.objects) {
    throw new PermanentError(
      `Pack ${entry.digest} holds ${opened.count} objects; the catalog says ${entry.objects}`,
    );
  }
  return opened;
}

const isCrdPack = (entry: PackEntry): boolean => entry.resource.kind === 'CustomResourceDefinition';

/** Packs read at once while planning: one being decided while the next downloads. */
const PLAN_PACKS_AT_ONCE = 2;

/**
 * Reads every pack once, verifying it as loadBackup does (a missing or
 * modified pack, an unsealed Secret, a count that does not add up is
 * refused here, before any write), and plans the restore from it. Packs
 * are read two at a time and dropped once decided: memory is the plan,
 * not the backup.
 */
export async function planRestore(
  store: ObjectStore,
  catalog: Catalog,
  job: RestoreJob,
  sealer: Sealer | undefined,
): Promise<PlanResult> {
  const skipped: ObjectOutcome[] = [];
  const unopened: ObjectOutcome[] = [];
  const kinds = new Map<string, ObjectRef>();
  const customGroups = new Set<string>();
  const crds: string[] = [];
  const volumeObjects: Record<string, KubeObject> = {};
  const pvNames = new Set(catalog.volumes.map((v) => v.pvName));
  const pvcNames = new Set(catalog.volumes.flatMap((v) => (v.pvcName ? [v.pvcName] : [])));
  // Per pack, its planned records with their waves (decided once every CRD's group is known).
  const perPack: { records: number[]; waves: number[]; names: string[] }[] = catalog.packs.map(
    () => ({ records: [], waves: [], names: [] }),
  );
  let total = 0;
  const decidePack = (index: number, pack: OpenedPack): void => {
    const into = perPack[index]!;
    for (let r = 0; r < pack.count; r++) {
      const record = pack.record(r);
      total += 1;
      if (isSecretRef(record.ref) && !record.sealed) {
        throw new PermanentError(
          `Backup ${catalog.backupId} holds Secret ${record.ref.namespace ?? ''}/${record.ref.name} unsealed: Lifeboat never writes one, so the backup was tampered with`,
        );
      }
      const kindKey = `${record.ref.group}/${record.ref.kind}`;
      if (!kinds.has(kindKey)) kinds.set(kindKey, record.ref);
      if (record.ref.kind === 'CustomResourceDefinition') {
        customGroups.add((record.object?.['spec'] as { group?: string } | undefined)?.group ?? '');
      }
      const decision = decide(record, job, sealer);
      if (decision.kind === 'skipped') skipped.push(decision.outcome);
      else if (decision.kind === 'unopened') unopened.push(decision.outcome);
      else {
        const { object } = decision;
        const hasOwners = (object.metadata.ownerReferences?.length ?? 0) > 0;
        into.records.push(r);
        into.waves.push(waveOf(record.ref, hasOwners, customGroups));
        const ns = object.metadata.namespace;
        into.names.push(ns === undefined ? object.metadata.name : `${ns}/${object.metadata.name}`);
        if (record.ref.kind === 'CustomResourceDefinition') crds.push(object.metadata.name);
        if (
          (object.kind === 'PersistentVolume' && pvNames.has(object.metadata.name)) ||
          (object.kind === 'PersistentVolumeClaim' && pvcNames.has(object.metadata.name))
        ) {
          volumeObjects[itemKey(index, r)] = object;
        }
      }
    }
  };
  const indices = catalog.packs.map((_, i) => i);
  // CRDs first: a custom resource's wave depends on whether its group is a CRD's of this backup.
  for (const batch of [
    indices.filter((i) => isCrdPack(catalog.packs[i]!)),
    indices.filter((i) => !isCrdPack(catalog.packs[i]!)),
  ]) {
    await mapLimit(batch, PLAN_PACKS_AT_ONCE, async (i) => {
      decidePack(i, await fetchPack(store, catalog.backupId, catalog.packs[i]!));
    });
  }
  if (total !== catalog.counts.objects) {
    throw new PermanentError(
      `Backup ${catalog.backupId} lists ${catalog.counts.objects} objects but its packs hold ${total}`,
    );
  }
  const waves = [...new Set(perPack.flatMap((p) => p.waves))].sort((a, b) => a - b);
  const order: number[] = [];
  const names: string[] = [];
  for (const wave of waves) {
    perPack.forEach((p, pack) => {
      p.waves.forEach((w, i) => {
        if (w !== wave) return;
        order.push(w, pack, p.records[i]!);
        names.push(p.names[i]!);
      });
    });
  }
  return {
    plan: {
      catalogDigest: catalog.digest,
      order,
      names,
      kinds: [...kinds.values()],
      crds,
      volumeObjects,
    },
    skipped,
    unopened,
  };
}
