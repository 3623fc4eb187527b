import type { ClusterRef } from '../messages/common.js';

/** Every key Lifeboat writes in a store is built here, and only here. */
export const Layout = {
  pack: (digest: string): string => `objects/sha256/${digest.slice(0, 2)}/${digest}.jsonl.gz`,
  clusterKey: (c: ClusterRef): string => `${c.project}.${c.location}.${c.name}`,
  clusterBackups: (c: ClusterRef): string => `backups/${Layout.clusterKey(c)}/`,
  backupDir: (c: ClusterRef, backupId: string): string =>
    `backups/${Layout.clusterKey(c)}/${backupId}/`,
  catalog: (c: ClusterRef, backupId: string): string =>
    `${Layout.backupDir(c, backupId)}catalog.json`,
  lock: (c: ClusterRef, backupId: string): string => `${Layout.backupDir(c, backupId)}lock.json`,
  announced: (c: ClusterRef, backupId: string): string =>
    `${Layout.backupDir(c, backupId)}announced.json`,
  deletedMarker: (c: ClusterRef): string => `clusters/${Layout.clusterKey(c)}/deleted.json`,
  plan: (c: ClusterRef, backupId: string): string =>
    `${Layout.backupDir(c, backupId)}parts/plan.json`,
  part: (c: ClusterRef, backupId: string, partId: string): string =>
    `${Layout.backupDir(c, backupId)}parts/${partId}.json`,
  partsPrefix: (c: ClusterRef, backupId: string): string =>
    `${Layout.backupDir(c, backupId)}parts/`,
  report: (restoreId: string): string => `restores/${restoreId}/report.json`,
  restoreProgress: (restoreId: string): string => `restores/${restoreId}/progress.json`,
  dataKey: (keyId: string): string => `keys/${keyId}.json`,
};
