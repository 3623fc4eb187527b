import { readDrillReport } from '../shared/drill/drill-store.js';
import { API_VERSION, DrillId, type DrillCompleted } from '../shared/messages/index.js';
import { storeIfGiven } from './connect.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { parseClusterRef, parseName, validateFlags } from './options.js';
import { emit, formatFields, section } from './output.js';
import { messageFromFlags, publishAndFollow, type PipelineFlags } from './pipeline.js';
import { defaultDrillId, readDrillPolicyFile, type DrillRunFlags } from './drill-run.js';
import { drillFields, formatDrillReport } from './drill-view.js';

export interface DrillPipelineFlags extends DrillRunFlags, PipelineFlags {
  pipeline?: boolean;
}

/**
 * Flags of an in-process drill that the deployment decides in pipeline mode:
 * the drill cluster and its credentials come from the deployed policy, the
 * keys and the Compute endpoint from the drill function's configuration.
 */
const DECIDED_BY_DEPLOYMENT: readonly [keyof DrillPipelineFlags, string][] = [
  ['kubeconfig', '--kubeconfig'],
  ['context', '--context'],
  ['keyFile', '--key-file'],
  ['kmsKey', '--kms-key'],
  ['computeEndpoint', '--compute-endpoint'],
];

function refuseDeploymentFlags(flags: DrillPipelineFlags): void {
  const given = DECIDED_BY_DEPLOYMENT.filter(([key]) => flags[key] !== undefined).map(
    ([, flag]) => flag,
  );
  if (given.length > 0) {
    throw new UsageError(
      `${given.join(', ')} cannot be used with --pipeline: the deployed drill policy decides the drill cluster, and the drill function its keys and Compute endpoint`,
    );
  }
}

function formatCompleted(m: DrillCompleted): string {
  return (
    formatFields([...drillFields(m), ['Report', m.reportKey]]) +
    (m.reasons.length ? section('Reasons', m.reasons) : '') +
    (m.leftBehind.length ? section('Left behind', m.leftBehind) : '')
  );
}

/**
 * `drill run --policy FILE --pipeline --cluster C`: publishes a DrillJob
 * carrying the policy (which the deployment accepts only when it is exactly
 * a deployed drill policy) on the drill topic and follows it to its
 * DrillCompleted. With a store at hand the full report is printed. Exit 0
 * only when the drill passed, as in-process.
 */
export async function runDrillThroughPipeline(flags: DrillPipelineFlags): Promise<ExitCode> {
  refuseDeploymentFlags(flags);
  const policy = readDrillPolicyFile(flags.policy);
  if (!flags.cluster) {
    // Without one, the drill function fans out into drills with ids of its own: the schedule's job.
    throw new UsageError(
      'missing --cluster PROJECT/LOCATION/NAME: with --pipeline, drill run drills one cluster (the schedule drills every one)',
    );
  }
  const cluster = parseClusterRef(flags.cluster, '--cluster');
  const drillId = flags.id ? validateFlags(DrillId, flags.id, '--id') : defaultDrillId();
  const backupId = flags.backup ? parseName(flags.backup, 'backup name') : undefined;
  const job = messageFromFlags('DrillJob', {
    apiVersion: API_VERSION,
    kind: 'DrillJob',
    drillId,
    policy,
    cluster,
    ...(backupId ? { backupId } : {}),
    requestedAt: new Date().toISOString(),
  });
  const done = await publishAndFollow(flags, {
    request: job,
    matches: (m) => m.drillId === drillId,
    what: `DrillCompleted of drill ${drillId}`,
  });
  const store = storeIfGiven(flags.store);
  const report =
    store && done.reportKey
      ? await readDrillReport(store, drillId).catch(() => undefined)
      : undefined;
  if (report) emit(flags.output, report, () => formatDrillReport(report));
  else emit(flags.output, done, () => formatCompleted(done));
  return done.verdict === 'passed' ? ExitCode.Ok : ExitCode.NotFullSuccess;
}
