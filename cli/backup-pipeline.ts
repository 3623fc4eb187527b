import { API_VERSION, type BackupCompleted } from '../shared/messages/index.js';
import { refuseExisting, type BackupCreateFlags } from './backup-create.js';
import { storeIfGiven } from './connect.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { clusterLabel } from './find-backup.js';
import { parseClusterRef, parseName } from './options.js';
import { emit, formatFields, section } from './output.js';
import { messageFromFlags, publishAndFollow, type PipelineFlags } from './pipeline.js';
import { policyFrom, readPolicyFile } from './policy.js';

export interface BackupPipelineFlags extends BackupCreateFlags, PipelineFlags {
  cluster?: string;
  pipeline?: boolean;
}

function formatCompleted(m: BackupCompleted): string {
  const counts = Object.entries(m.counts).map(([k, v]) => `${v} ${k}`);
  return (
    formatFields([
      ['Name', m.backupId],
      ['Cluster', clusterLabel(m.cluster)],
      ['Phase', m.phase],
      ['Counts', counts.join(', ')],
      ['Catalog', m.catalogKey],
    ]) + (m.errors.length ? section('Errors', m.errors) : '')
  );
}

/**
 * `backup create --pipeline`: publishes a ClusterBackupJob to the deployed
 * pipeline and follows it to its BackupCompleted.
 */
export async function createBackupThroughPipeline(
  name: string,
  flags: BackupPipelineFlags,
): Promise<ExitCode> {
  const backupId = parseName(name, 'backup name');
  if (!flags.cluster) {
    throw new UsageError('missing --cluster PROJECT/LOCATION/NAME: the cluster to back up');
  }
  const cluster = parseClusterRef(flags.cluster, '--cluster');
  const policy = policyFrom(
    flags.policy ? readPolicyFile(flags.policy) : undefined,
    flags,
    cluster.project,
  );
  const job = messageFromFlags('ClusterBackupJob', {
    apiVersion: API_VERSION,
    kind: 'ClusterBackupJob',
    backupId,
    cluster,
    policy,
    scheduledTime: new Date().toISOString(),
  });
  // With a store at hand, refuse a name already taken: the pipeline would answer nothing.
  const store = storeIfGiven(flags.store);
  if (store) await refuseExisting(store, cluster, backupId);
  const done = await publishAndFollow(flags, {
    request: job,
    matches: (m) => m.backupId === backupId && clusterLabel(m.cluster) === clusterLabel(cluster),
    what: `BackupCompleted of backup ${backupId}`,
  });
  emit(flags.output, done, () => formatCompleted(done));
  return done.phase === 'Completed' ? ExitCode.Ok : ExitCode.NotFullSuccess;
}
