import type { Catalog } from '../catalog/catalog-schema.js';
import { Layout } from '../catalog/layout.js';
import { qualifiedName } from '../kube/discovery.js';
import { backupCompleted, type BackupCompleted } from '../messages/index.js';

/** The BackupCompleted that announces a written catalog: its outcome, counts and point in time. */
export function backupCompletedOf(catalog: Catalog): BackupCompleted {
  return backupCompleted({
    backupId: catalog.backupId,
    cluster: catalog.cluster,
    phase: catalog.phase,
    catalogKey: Layout.catalog(catalog.cluster, catalog.backupId),
    counts: { ...catalog.counts },
    errors: catalog.errors,
    ...pointInTimeOf(catalog),
  });
}

/** What a BackupCompleted says of a catalog's point in time: its revision and what missed it. */
function pointInTimeOf(catalog: Catalog): Pick<BackupCompleted, 'revision' | 'notAtRevision'> {
  if (catalog.revision === undefined) return {};
  return {
    revision: catalog.revision,
    notAtRevision: catalog.resources
      .filter((r) => r.atRevision === false)
      .map((r) => qualifiedName(r)),
  };
}
