import { Layout } from '../shared/catalog/layout.js';
import { API_VERSION, type RestoreCompleted } from '../shared/messages/index.js';
import type { RestoreReport } from '../shared/restore/report.js';
import { storeIfGiven } from './connect.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { clusterLabel, findBackup } from './find-backup.js';
import { parseClusterRef } from './options.js';
import { emit, formatFields, section } from './output.js';
import { messageFromFlags, publishAndFollow } from './pipeline.js';
import { refuseExistingRestore } from './restore-create.js';
import {
  restoreIdsFrom,
  restoreNarrowingFrom,
  sourceClusterFrom,
  type RestoreFlags,
} from './restore-flags.js';
import { countsText, formatReport } from './restore-view.js';

function formatCompleted(m: RestoreCompleted): string {
  return (
    formatFields([
      ['Name', m.restoreId],
      ['Backup', m.backupId],
      ['Target', clusterLabel(m.target)],
      ['Phase', m.phase],
      ['Objects', countsText(m.counts)],
      ['Report', m.reportKey],
    ]) + (m.errors.length ? section('Errors', m.errors) : '')
  );
}

/**
 * `restore create --pipeline --plan NAME`: publishes a RestoreRequest under a
 * deployed restore plan and follows it to its RestoreCompleted. With a store at hand, the source cluster can be
 * found from the backup and the full report is printed.
 */
export async function createRestoreThroughPipeline(
  name: string | undefined,
  flags: RestoreFlags,
): Promise<ExitCode> {
  const { backupId, restoreId } = restoreIdsFrom(name, flags);
  const narrow = restoreNarrowingFrom(flags);
  if (!flags.plan) {
    throw new UsageError(
      'missing --plan NAME: the deployed restore plan that allows this restore (see infra/ restore_plans)',
    );
  }
  if (!flags.targetCluster) {
    throw new UsageError(
      'missing --target-cluster PROJECT/LOCATION/NAME: the cluster to restore into',
    );
  }
  const target = parseClusterRef(flags.targetCluster, '--target-cluster');
  const store = storeIfGiven(flags.store);
  let source = sourceClusterFrom(flags);
  if (store) {
    await refuseExistingRestore(store, restoreId);
    source = (await findBackup(store, backupId, source)).cluster;
  }
  if (!source) {
    throw new UsageError(
      'missing --source-cluster PROJECT/LOCATION/NAME: the cluster the backup is of (or pass --store to look it up)',
    );
  }
  const request = messageFromFlags('RestoreRequest', {
    apiVersion: API_VERSION,
    kind: 'RestoreRequest',
    restoreId,
    plan: flags.plan,
    backup: { backupId, cluster: source },
    target,
    ...(Object.keys(narrow).length ? { narrow } : {}),
    step: 0,
  });
  const done = await publishAndFollow(flags, {
    request: request,
    matches: (m) => m.restoreId === restoreId,
    what: `RestoreCompleted of restore ${restoreId}`,
  });
  const report =
    store && (await store.exists(Layout.report(restoreId)))
      ? (JSON.parse((await store.get(Layout.report(restoreId))).toString('utf8')) as RestoreReport)
      : undefined;
  if (report) emit(flags.output, report, () => formatReport(report));
  else emit(flags.output, done, () => formatCompleted(done));
  return done.phase === 'Completed' ? ExitCode.Ok : ExitCode.NotFullSuccess;
}
