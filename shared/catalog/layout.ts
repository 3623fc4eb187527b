import type { ClusterRef } from '../messages/common.js';

/** Every key Lifeboat writes in a store is built here, and only here. */
export const Layout = {
  pack: (digest: string): string => `objects/sha256/${digest.slice(0, 2)}/${digest}.jsonl.gz`,
  clusterKey: (c: ClusterRef): string => `${c.project}.${c.location}.${c.name}`,
  /** `project.location.name` back to a ClusterRef; undefined when the key has another shape. */
  parseClusterKey: (key: string): ClusterRef | undefined => {
    const parts = key.split('.');
    if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
    const [project, location, name] = parts as [string, string, string];
    return { project, location, name };
  },
  clusterBackups: (c: ClusterRef): string => `backups/${Layout.clusterKey(c)}/`,
  backupDir: (c: ClusterRef, backupId: string): string =>
    `backups/${Layout.clusterKey(c)}/${backupId}/`,
  catalog: (c: ClusterRef, backupId: string): string =>
    `${Layout.backupDir(c, backupId)}catalog.json`,
  lock: (c: ClusterRef, backupId: string): string => `${Layout.backupDir(c, backupId)}lock.json`,
  /** The catalog's authentication: an HMAC under a key derived from the store's data key. */
  seal: (c: ClusterRef, backupId: string): string => `${Layout.backupDir(c, backupId)}seal.json`,
  /** A restore's lease on the backup it reads: retention keeps a leased backup. */
  lease: (c: ClusterRef, backupId: string, restoreId: string): string =>
    `${Layout.leases(c, backupId)}${restoreId}.json`,
  leases: (c: ClusterRef, backupId: string): string => `${Layout.backupDir(c, backupId)}leases/`,
  /** Written before retention deletes a backup, removed last: a half-deleted backup is never revived. */
  expiring: (c: ClusterRef, backupId: string): string =>
    `${Layout.backupDir(c, backupId)}expiring.json`,
  /** Written once BackupCompleted was published: the backup is announced. */
  announced: (c: ClusterRef, backupId: string): string =>
    `${Layout.backupDir(c, backupId)}announced.json`,
  /**
   * The n-th claim to announce a backup (n from 1): created only if absent, so one
   * invocation holds each; a later claim takes over from a holder that died.
   */
  announceClaim: (c: ClusterRef, backupId: string, n: number): string =>
    `${Layout.backupDir(c, backupId)}announce/${String(n).padStart(4, '0')}.json`,
  /**
   * The n-th failed delivery (from 1) of the message that produces a part, counted in
   * the store because the push envelope's deliveryAttempt does not reach the function.
   */
  failedAttempt: (c: ClusterRef, backupId: string, partId: string, n: number): string =>
    `${Layout.backupDir(c, backupId)}attempts/${partId}/${String(n).padStart(4, '0')}.json`,
  /** A restore drill's report, beside the backup it drilled. */
  drillReport: (c: ClusterRef, backupId: string, drillId: string): string =>
    `${Layout.drills(c, backupId)}${drillId}.json`,
  drills: (c: ClusterRef, backupId: string): string => `${Layout.backupDir(c, backupId)}drills/`,
  /** Where a drill is found by its id alone (it points at the report beside the backup). */
  drillIndex: (drillId: string): string => `drills/${drillId}.json`,
  drillIndexPrefix: (): string => 'drills/',
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
  /** Names the layout version of the store, so an older sweep refuses a newer layout. */
  storeMarker: (): string => 'lifeboat-store.json',
};

/** The version of the key layout above; bumped when a key's meaning changes. */
export const STORE_LAYOUT = 1;

/** What a key in a Lifeboat store is, as Layout builds it; `unknown` when Layout builds no such key. */
export type KeyKind =
  | { kind: 'backup'; clusterKey: string; backupId: string; file: BackupFile }
  | { kind: 'pack'; digest: string }
  | { kind: 'other' }
  | { kind: 'unknown' };

export type BackupFile =
  | 'catalog'
  | 'seal'
  | 'lock'
  | 'expiring'
  | 'announced'
  | 'announce-claim'
  | 'plan'
  | 'part'
  | 'attempt'
  | 'lease'
  | 'drill';

const backupFiles: Record<string, BackupFile> = {
  'catalog.json': 'catalog',
  'seal.json': 'seal',
  'lock.json': 'lock',
  'expiring.json': 'expiring',
  'announced.json': 'announced',
  'parts/plan.json': 'plan',
};

/** The inverse of Layout: what kind of key this is, so nothing that deletes acts on a key it does not know. */
export function classifyKey(key: string): KeyKind {
  const backup = /^backups\/([^/]+)\/([a-z0-9][-a-z0-9]*)\/(.+)$/.exec(key);
  if (backup) {
    const [, clusterKey = '', backupId = '', rest = ''] = backup;
    const file =
      backupFiles[rest] ??
      (/^parts\/(manifests\/[^/]+\/\d+|volumes\/[^/]+)\.json$/.test(rest) ? 'part' : undefined) ??
      (/^leases\/[^/]+\.json$/.test(rest) ? 'lease' : undefined) ??
      (/^drills\/[^/]+\.json$/.test(rest) ? 'drill' : undefined) ??
      (/^announce\/\d{4,}\.json$/.test(rest) ? 'announce-claim' : undefined) ??
      (/^attempts\/(manifests\/[^/]+\/\d+|volumes\/[^/]+)\/\d{4,}\.json$/.test(rest)
        ? 'attempt'
        : undefined);
    return file ? { kind: 'backup', clusterKey, backupId, file } : { kind: 'unknown' };
  }
  const pack = /^objects\/sha256\/([0-9a-f]{2})\/([0-9a-f]{64})\.jsonl\.gz$/.exec(key);
  if (pack?.[2] && pack[2].startsWith(pack[1] ?? '')) return { kind: 'pack', digest: pack[2] };
  if (
    /^clusters\/[^/]+\/deleted\.json$/.test(key) ||
    /^restores\/[^/]+\/(report|progress)\.json$/.test(key) ||
    /^drills\/[^/]+\.json$/.test(key) ||
    /^keys\/[^/]+\.json$/.test(key) ||
    key === Layout.storeMarker()
  )
    return { kind: 'other' };
  return { kind: 'unknown' };
}
