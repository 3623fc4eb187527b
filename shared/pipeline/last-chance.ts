import { createHash } from 'node:crypto';
import type { Catalog, VolumeEntry } from '../catalog/catalog-schema.js';
import { readCatalog, writeCatalog } from '../catalog/catalog-io.js';
import { Layout } from '../catalog/layout.js';
import { mapLimit } from '../concurrency.js';
import type { Deadline } from '../time/deadline.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Sealer } from '../crypto/sealer.js';

const LAST_CHANCE_PREFIX = 'lastchance-';

/** Last-chance backups stay until their own TTL and never count toward a policy's keepLast. */
export const isLastChance = (backupId: string): boolean => backupId.startsWith(LAST_CHANCE_PREFIX);

/** A backup id for the last-chance backup of a deletion, the same for every delivery of it. */
export function lastChanceBackupId(operationKey: string): string {
  return `${LAST_CHANCE_PREFIX}${createHash('sha256').update(operationKey).digest('hex').slice(0, 16)}`;
}

/**
 * When a cluster is being deleted its disks may still exist: snapshot them
 * now and write a catalog that pairs the latest backup's manifests with
 * these fresher snapshots, so the newest data can be restored. Disks already
 * gone keep the snapshot of the latest backup. Idempotent by name.
 */
export async function lastChanceBackup(
  store: ObjectStore,
  disks: DiskSnapshotter,
  latest: Catalog,
  operationKey: string,
  deadline: Deadline,
  sealer?: Sealer,
): Promise<{ catalog: Catalog; snapshots: string[]; notes: string[] }> {
  const backupId = lastChanceBackupId(operationKey);
  if (await store.exists(Layout.catalog(latest.cluster, backupId))) {
    const catalog = await readCatalog(store, latest.cluster, backupId);
    return {
      catalog,
      snapshots: catalog.volumes.flatMap((v) => (v.snapshot ? [v.snapshot.name] : [])),
      notes: [],
    };
  }
  const notes: string[] = [];
  const snapshots: string[] = [];
  const volumes: VolumeEntry[] = await mapLimit(latest.volumes, 8, async (volume) => {
    if (!volume.disk) return volume;
    const outcome = await disks.snapshotDisk({
      backupId,
      cluster: latest.cluster,
      disk: volume.disk,
      ...(volume.pvcNamespace && volume.pvcName
        ? { pvc: { namespace: volume.pvcNamespace, name: volume.pvcName } }
        : {}),
      // However late the event is answered, each snapshot gets a second to begin.
      deadline: deadline.atLeast(1000),
    });
    if (outcome.status === 'FAILED') {
      notes.push(
        `volume ${volume.pvName}: no last-chance snapshot (${outcome.reason}); the backup ${latest.backupId} snapshot stays the newest`,
      );
      return volume;
    }
    snapshots.push(outcome.snapshot.name);
    return { ...volume, status: 'READY' as const, disk: outcome.disk, snapshot: outcome.snapshot };
  });
  const { digest, ...unsigned } = latest;
  const now = new Date().toISOString();
  const catalog = await writeCatalog(
    store,
    {
      ...unsigned,
      backupId,
      startedAt: now,
      completedAt: now,
      volumes,
      warnings: [
        ...latest.warnings,
        `last-chance backup taken when the cluster was deleted: manifests from backup ${latest.backupId}, volumes snapshotted at deletion`,
        ...notes,
      ],
    },
    sealer,
  );
  return { catalog, snapshots, notes };
}
