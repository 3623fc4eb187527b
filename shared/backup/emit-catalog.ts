import type { Catalog, PackEntry } from '../catalog/catalog-schema.js';
import { readCatalog, writeCatalog, type UnsignedCatalog } from '../catalog/catalog-io.js';
import { Layout } from '../catalog/layout.js';
import type { BackupPolicy, ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Sealer } from '../crypto/sealer.js';
import { PermanentError } from '../errors.js';
import { PartsReader } from './parts-reader.js';

export type EmitResult =
  | { status: 'written' | 'already-written'; catalog: Catalog }
  | { status: 'waiting'; missing: string[] };

/**
 * Writes the catalog when every planned part has reported, and not before.
 * Safe to call any number of times, concurrently: the catalog is created
 * only if absent, and a shard that failed makes the phase PartiallyFailed
 * with the exact list of what is missing, never a silent gap.
 */
export async function emitCatalog(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  /** The plan's policy when absent. */
  policy: BackupPolicy | undefined,
  extra: {
    encryption?: { keyId: string; wrappedBy: string };
    /** Seals the catalog it writes (see catalog-seal.ts). */
    sealer?: Sealer;
    force?: boolean;
    /** The completion time; the current time unless a test runs a clock of its own. */
    completedAt?: string;
    /** Remembers parts already read (one per process): each part's body is read once. */
    reader?: PartsReader;
  } = {},
): Promise<EmitResult> {
  if (await store.exists(Layout.catalog(cluster, backupId))) {
    return { status: 'already-written', catalog: await readCatalog(store, cluster, backupId) };
  }
  if (await store.exists(Layout.expiring(cluster, backupId))) {
    // A late message for a backup retention is deleting: writing its catalog again would revive it without its packs.
    throw new PermanentError(
      `Backup ${backupId} of ${Layout.clusterKey(cluster)} has expired and is being deleted`,
    );
  }
  const { plan, ...parts } = await (extra.reader ?? new PartsReader(store)).read(cluster, backupId);
  const missing: string[] = [];
  const errors: string[] = [];
  const packs: PackEntry[] = [];
  let objects = 0;
  let secrets = 0;
  const perResource = new Map<string, number>();
  // A resource is at the plan's revision only if every one of its segments was listed there.
  const offRevision = new Set<string>();
  for (const shard of plan.shards) {
    const segments = parts.manifests.filter((p) => p.shardId === shard.shardId);
    if (!segments.some((s) => s.done)) {
      missing.push(`manifests of ${shard.shardId}`);
      continue;
    }
    for (const s of segments) {
      if (!s.ok)
        errors.push(
          `${shard.shardId}: ${s.error ?? 'failed'} (its objects are missing from this backup)`,
        );
      packs.push(...s.packs);
      objects += s.objects;
      secrets += s.secrets;
      perResource.set(shard.shardId, (perResource.get(shard.shardId) ?? 0) + s.objects);
      if (s.atRevision !== true) offRevision.add(shard.shardId);
    }
  }
  const volumes = plan.volumes.map((pv) => {
    const part = parts.volumes.find((v) => v.pvName === pv);
    if (!part) missing.push(`volume ${pv}`);
    return part?.volume;
  });
  if (missing.length > 0 && !extra.force) return { status: 'waiting', missing };
  // Forced (a backup abandoned past its deadline): what never reported is listed, never glossed over.
  for (const m of missing) errors.push(`${m}: never reported (the backup was finished without it)`);
  const volumeEntries = volumes.filter((v) => v !== undefined);
  // A volume part's errors say what failed: the snapshot, or a hook around it.
  for (const part of parts.volumes) errors.push(...part.errors);
  const exportedNothing = objects === 0 && !volumeEntries.some((v) => v.status === 'READY');
  if (exportedNothing && errors.length === 0)
    errors.push('nothing was exported: no object or volume matched the policy');
  const warnings = [...plan.warnings, ...parts.volumes.flatMap((p) => p.warnings)];
  const unsigned: UnsignedCatalog = {
    kind: 'Catalog',
    backupId,
    cluster,
    kubernetesVersion: plan.kubernetesVersion,
    policy: policy ?? plan.policy,
    phase: exportedNothing ? 'Failed' : errors.length === 0 ? 'Completed' : 'PartiallyFailed',
    startedAt: plan.startedAt,
    completedAt: extra.completedAt ?? new Date().toISOString(),
    counts: {
      objects,
      packs: packs.length,
      packBytes: packs.reduce((sum, p) => sum + p.bytes, 0),
      volumes: volumeEntries.length,
      secrets,
    },
    // How the Secrets were sealed is the plan's to say (recorded when the backup started),
    // whichever process finishes the catalog; older plans did not record it.
    ...((plan.encryption ?? extra.encryption)
      ? { encryption: plan.encryption ?? extra.encryption }
      : {}),
    resources: plan.shards.map((s) => ({
      ...s.resource,
      objects: perResource.get(s.shardId) ?? 0,
      ...(plan.revision !== undefined ? { atRevision: !offRevision.has(s.shardId) } : {}),
    })),
    ...(plan.revision !== undefined ? { revision: plan.revision } : {}),
    packs,
    volumes: volumeEntries,
    warnings,
    errors,
  };
  const catalog = await writeCatalog(store, unsigned, extra.sealer);
  return { status: 'written', catalog };
}
