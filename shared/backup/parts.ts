import type { PackEntry, VolumeEntry } from '../catalog/catalog-schema.js';
import { canonicalJson } from '../catalog/canonical.js';
import { WRITTEN_BY } from '../catalog/catalog-format.js';
import { Layout } from '../catalog/layout.js';
import { markStoreLayout } from '../catalog/store-layout.js';
import type { ListPosition } from '../kube/list-pages.js';
import type { ResourceRef } from '../messages/backup.js';
import type { BackupPolicy, ClusterRef } from '../messages/common.js';
import { PermanentError } from '../errors.js';
import { parseStoredJson, type ObjectStore } from '../store/object-store.js';

/** What a backup will consist of; written once, before any shard runs. */
export interface BackupPlan {
  backupId: string;
  cluster: ClusterRef;
  /** The policy the backup runs under, so whoever writes the catalog has it. */
  policy: BackupPolicy;
  kubernetesVersion: string;
  /** How this backup's Secrets are sealed (the data key and what wraps it), when a key is configured. */
  encryption?: { keyId: string; wrappedBy: string };
  /** The catalog this backup builds on: its packs are not uploaded again. */
  previousBackupId?: string;
  startedAt: string;
  shards: { shardId: string; resource: ResourceRef }[];
  /** Persistent volumes to snapshot (by PV name); empty when snapshots are off. */
  volumes: string[];
  warnings: string[];
  /** The etcd revision every shard lists at (older plans lack it: listed at the latest). */
  revision?: string;
  /** Namespaced resources are listed in these namespaces only; absent: cluster-wide. */
  namespaces?: string[];
}

/** How the plan says shards list: at its revision, and in its namespaces (see list-scope.ts). */
export function listScopeOf(plan: BackupPlan): { revision?: string; namespaces?: string[] } {
  return {
    ...(plan.revision !== undefined ? { revision: plan.revision } : {}),
    ...(plan.namespaces !== undefined ? { namespaces: plan.namespaces } : {}),
  };
}

/** One segment of a shard's export; the last segment has `done`. */
export interface ManifestPart {
  shardId: string;
  segment: number;
  ok: boolean;
  done: boolean;
  packs: PackEntry[];
  objects: number;
  secrets: number;
  error?: string;
  /** Where the next segment starts, when this one handed over (older parts lack it). */
  next?: ListPosition;
  /** Whether every page of this segment was listed at the plan's revision. */
  atRevision?: boolean;
}

export interface VolumePart {
  pvName: string;
  volume: VolumeEntry;
  /** Why this volume makes the backup PartiallyFailed (a failed snapshot, a failed hook). */
  errors: string[];
  warnings: string[];
}

export const segmentKey = (
  plan: Pick<BackupPlan, 'cluster' | 'backupId'>,
  shardId: string,
  segment: number,
): string =>
  Layout.part(
    plan.cluster,
    plan.backupId,
    `manifests/${shardId}/${String(segment).padStart(5, '0')}`,
  );

export const volumeKey = (plan: Pick<BackupPlan, 'cluster' | 'backupId'>, pvName: string): string =>
  Layout.part(plan.cluster, plan.backupId, `volumes/${pvName}`);

export async function writePlan(store: ObjectStore, plan: BackupPlan): Promise<BackupPlan> {
  const key = Layout.plan(plan.cluster, plan.backupId);
  await markStoreLayout(store, WRITTEN_BY);
  // A redelivered job finds the first plan and keeps it, so shard ids never change mid-backup.
  if (await store.createIfAbsent(key, JSON.stringify(plan))) return plan;
  return readPlan(store, plan.cluster, plan.backupId);
}

export async function readPlan(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
): Promise<BackupPlan> {
  const key = Layout.plan(cluster, backupId);
  const plan = parseStoredJson(await store.get(key), key) as Partial<BackupPlan> | null;
  if (
    typeof plan !== 'object' ||
    plan === null ||
    Array.isArray(plan) ||
    typeof plan.backupId !== 'string' ||
    typeof plan.cluster !== 'object' ||
    plan.cluster === null ||
    !Array.isArray(plan.shards)
  ) {
    throw new PermanentError(`Corrupted object ${JSON.stringify(key)}: not a backup plan`);
  }
  return plan as BackupPlan;
}

/** Parts are write-once: a redelivered shard finds its part and does nothing twice. */
export async function writeManifestPart(
  store: ObjectStore,
  plan: Pick<BackupPlan, 'cluster' | 'backupId'>,
  part: ManifestPart,
): Promise<boolean> {
  return store.createIfAbsent(segmentKey(plan, part.shardId, part.segment), JSON.stringify(part));
}

export async function writeVolumePart(
  store: ObjectStore,
  plan: Pick<BackupPlan, 'cluster' | 'backupId'>,
  part: VolumePart,
): Promise<boolean> {
  return store.createIfAbsent(volumeKey(plan, part.pvName), JSON.stringify(part));
}

export async function readParts(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
): Promise<{ manifests: ManifestPart[]; volumes: VolumePart[] }> {
  const manifests: ManifestPart[] = [];
  const volumes: VolumePart[] = [];
  const prefix = Layout.partsPrefix(cluster, backupId);
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  await Promise.all(
    keys.map(async (key) => {
      const rest = key.slice(prefix.length);
      if (rest.startsWith('manifests/'))
        manifests.push(parseStoredJson(await store.get(key), key) as ManifestPart);
      else if (rest.startsWith('volumes/'))
        volumes.push(parseStoredJson(await store.get(key), key) as VolumePart);
    }),
  );
  manifests.sort((a, b) => a.shardId.localeCompare(b.shardId) || a.segment - b.segment);
  return { manifests, volumes };
}

/**
 * The plan of the backup a message belongs to. Everything past planning
 * works from the plan, which was written under the deployed policy; a
 * message carrying another policy is refused rather than half-trusted.
 */
export async function readPlanOf(
  store: ObjectStore,
  message: { cluster: ClusterRef; backupId: string; policy: BackupPolicy },
  where: string,
): Promise<BackupPlan> {
  const plan = await readPlan(store, message.cluster, message.backupId);
  if (canonicalJson(plan.policy) !== canonicalJson(message.policy)) {
    throw new PermanentError(
      `${where} of backup ${message.backupId}: its policy is not the one the backup was planned under; refused`,
    );
  }
  return plan;
}
