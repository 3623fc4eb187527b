import { readCatalog } from '../shared/catalog/catalog-io.js';
import { sealCatalog } from '../shared/catalog/catalog-seal.js';
import { mapLimit } from '../shared/concurrency.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import type { CatalogFlags } from './catalog-run.js';
import { keySourceFrom, keyWrapper, storeFrom, type KeySource } from './connect.js';
import { ExitCode, oneLine, UsageError } from './exit-codes.js';
import { clusterLabel, scanBackups, type StoredBackup } from './find-backup.js';
import { emit } from './output.js';
import { Progress } from './progress.js';
import { formatScrub, RESULT_TEXT, scrubSummary, type ScrubItem } from './scrub-view.js';
import { verifyBackup } from './verify-backup.js';

/** Backups verified at once; each also reads up to 8 packs at once (loadBackup). */
const SCRUB_CONCURRENCY = 4;

/**
 * `catalog verify --all`: a scrub of the whole store, every backup of every
 * cluster checked as `catalog verify NAME` checks one. A backup without a
 * catalog is reported as incomplete and does not fail the scrub; any
 * backup that is not restorable exits 1.
 */
export async function verifyAll(
  flags: CatalogFlags,
  options: { seal?: boolean; names?: string[] } = {},
): Promise<ExitCode> {
  if (flags.cluster) {
    throw new UsageError(
      '--cluster selects the cluster of a backup NAME; --all checks every cluster',
    );
  }
  const store = storeFrom(flags.store);
  const key = keySourceFrom(flags);
  if (key) keyWrapper(key); // a malformed key is a usage error before anything is read
  if (options.seal && !key)
    throw new UsageError(
      'catalog seal needs the key: --key-file (or LIFEBOAT_KEY_FILE) or --kms-key (or LIFEBOAT_KMS_KEY)',
    );
  const backups = (await scanBackups(store)).filter(
    (b) => !options.names || options.names.includes(b.backupId),
  );
  // Progress only on a terminal: a log or a pipe gets the table and the summary alone.
  const progress = process.stderr.isTTY ? new Progress(0) : undefined;
  let done = 0;
  const items = await mapLimit(backups, SCRUB_CONCURRENCY, async (backup) => {
    const item = await scrubOne(store, backup, key, options.seal ?? false);
    done += 1;
    progress?.update(
      `checked ${done}/${backups.length}: ${clusterLabel(backup.cluster)} ${backup.backupId}: ${RESULT_TEXT[item.result]}`,
    );
    return item;
  });
  progress?.done();
  const summary = scrubSummary(items);
  emit(flags.output, { items, summary }, () => formatScrub(items, summary));
  for (const item of items.filter((i) => i.result === 'not-restorable')) {
    process.stderr.write(
      `lifeboat: backup "${item.backupId}" of ${clusterLabel(item.cluster)} is not restorable: ${item.reason}\n`,
    );
  }
  return summary.notRestorable > 0 ? ExitCode.NotFullSuccess : ExitCode.Ok;
}

async function scrubOne(
  store: ObjectStore,
  backup: StoredBackup,
  key: KeySource | undefined,
  seal: boolean,
): Promise<ScrubItem> {
  const { cluster, backupId } = backup;
  if (!backup.hasCatalog) {
    return {
      cluster,
      backupId,
      result: 'incomplete',
      reason: 'no catalog: still running, or it never finished',
    };
  }
  try {
    const verified = await verifyBackup(store, cluster, backupId, key);
    const { catalog, objects, packs, secrets, sealer } = verified;
    let authenticity: string = verified.authenticity;
    // Sealed only after every pack, object and Secret verified with the key.
    if (seal && sealer && authenticity === 'unauthenticated') {
      await sealCatalog(store, sealer, catalog);
      authenticity = 'sealed now';
    }
    return {
      cluster,
      backupId,
      phase: catalog.phase,
      result: 'verified',
      objects,
      packs,
      secrets,
      authenticity,
    };
  } catch (error) {
    // The phase, when the catalog itself is readable and only what it lists is not.
    const phase = await readCatalog(store, cluster, backupId).then(
      (c) => c.phase,
      () => undefined,
    );
    return {
      cluster,
      backupId,
      ...(phase ? { phase } : {}),
      result: 'not-restorable',
      reason: oneLine(error),
    };
  }
}
