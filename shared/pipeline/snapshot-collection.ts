import type { Catalog } from '../catalog/catalog-schema.js';
import { Layout } from '../catalog/layout.js';
import { Deadline } from '../time/deadline.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import { errorMessage } from '../errors.js';

const snapshotName = (s: { project: string; name: string }): string => `${s.project}/${s.name}`;

/**
 * Deletes the snapshots of expired backups that no kept backup also uses
 * (a last-chance backup shares snapshots with the backup it came from).
 * A cluster held for an unreadable catalog expires nothing, so it offers
 * no candidates. A failed delete is reported, and the snapshot is left in
 * place: the expired catalog that named it is gone, so no later sweep
 * retries it (erring on keeping, at a cost the report makes visible).
 */
export async function collectSnapshots(
  disks: DiskSnapshotter | undefined,
  expired: readonly Catalog[],
  kept: readonly Catalog[],
  heldClusters: ReadonlySet<string>,
  report: { deletedSnapshots: string[]; errors: string[] },
): Promise<void> {
  const inUse = new Set(
    kept.flatMap((c) => c.volumes.flatMap((v) => (v.snapshot ? [snapshotName(v.snapshot)] : []))),
  );
  const candidates = new Map<string, { project: string; name: string }>();
  for (const c of expired) {
    if (heldClusters.has(Layout.clusterKey(c.cluster))) continue;
    for (const v of c.volumes)
      if (v.snapshot && !inUse.has(snapshotName(v.snapshot)))
        candidates.set(snapshotName(v.snapshot), v.snapshot);
  }
  if (candidates.size === 0) return;
  if (!disks) {
    report.errors.push(
      `${candidates.size} snapshots are no longer referenced, but no Compute Engine access is configured to delete them`,
    );
    return;
  }
  for (const [name, snapshot] of candidates) {
    try {
      const outcome = await disks.deleteSnapshot(snapshot, Deadline.after(120_000));
      if (outcome.status === 'FAILED') report.errors.push(`snapshot ${name}: ${outcome.reason}`);
      else report.deletedSnapshots.push(name);
    } catch (error) {
      report.errors.push(`snapshot ${name}: ${errorMessage(error)}`);
    }
  }
}
