import { diffBackups } from '../shared/catalog/backup-diff.js';
import { keySourceFrom, sealerForBackup, storeFrom, type KeyFlags } from './connect.js';
import { ExitCode } from './exit-codes.js';
import { clusterFlag, findCatalog } from './find-backup.js';
import type { OutputFormat } from './options.js';
import { emit } from './output.js';
import { formatDiff } from './diff-view.js';

export interface BackupDiffFlags extends KeyFlags {
  store?: string;
  cluster?: string;
  output: OutputFormat;
}

/**
 * `backup diff FROM TO`: what changed from one backup to the other. Exit 0
 * whatever the difference; 3 when either backup is not found (or not
 * finished), 2 for bad flags or a key the backups were not sealed with.
 */
export async function diffCommand(
  fromId: string,
  toId: string,
  flags: BackupDiffFlags,
): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const cluster = clusterFlag(flags.cluster);
  const key = keySourceFrom(flags);
  const [from, to] = await Promise.all([
    findCatalog(store, fromId, cluster),
    findCatalog(store, toId, cluster),
  ]);
  // Secrets of either backup open with the store's data key; the newer names it unless it has none.
  const sealer = await sealerForBackup(store, key, to.encryption ?? from.encryption);
  const diff = await diffBackups(
    store,
    { cluster: from.cluster, backupId: fromId },
    { cluster: to.cluster, backupId: toId },
    sealer ? { sealer } : {},
  );
  emit(flags.output, diff, () => formatDiff(diff));
  return ExitCode.Ok;
}
