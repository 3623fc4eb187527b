import type { Bus } from '../shared/bus/bus.js';
import type { Logger } from '../shared/log/logger.js';
import { drillReportKey } from '../shared/drill/drill-store.js';
import {
  API_VERSION,
  type ClusterRef,
  type DrillCompleted,
  type DrillReport,
} from '../shared/messages/index.js';

/**
 * The message of the one ERROR entry written for each failed drill. The
 * log-based alert policy of infra/alerting.tf matches it exactly (with
 * jsonPayload.verdict "failed"); a test checks the two agree.
 */
export const DRILL_FAILED_LOG = 'restore drill failed';

/** What a drill ended with, whatever stopped it. */
export interface DrillOutcome {
  drillId: string;
  policy: string;
  source: ClusterRef;
  drillCluster: ClusterRef;
  backupId?: string | undefined;
  verdict: 'passed' | 'failed';
  rtoSeconds?: number | undefined;
  reportKey?: string | undefined;
  reasons: string[];
  leftBehind: string[];
}

const clusterText = (c: ClusterRef): string => `${c.project}/${c.location}/${c.name}`;

/**
 * Announces a drill's verdict: DrillCompleted on the drill-completed topic,
 * with the verdict as a message attribute too (so a pager's subscription
 * can keep only failures with a filter), and a log entry: INFO for a pass,
 * ERROR "restore drill failed" for a failure, which pages.
 */
export async function announceDrill(
  bus: Bus,
  topic: string,
  logger: Logger,
  outcome: DrillOutcome,
  options: { again?: boolean } = {},
): Promise<void> {
  const message: DrillCompleted = {
    apiVersion: API_VERSION,
    kind: 'DrillCompleted',
    drillId: outcome.drillId,
    policy: outcome.policy,
    source: outcome.source,
    ...(outcome.backupId !== undefined ? { backupId: outcome.backupId } : {}),
    drillCluster: outcome.drillCluster,
    verdict: outcome.verdict,
    ...(outcome.rtoSeconds !== undefined ? { rtoSeconds: outcome.rtoSeconds } : {}),
    ...(outcome.reportKey !== undefined ? { reportKey: outcome.reportKey } : {}),
    // Bounded: a message must stay well under Pub/Sub's limit whatever went wrong.
    reasons: outcome.reasons.slice(0, 50),
    leftBehind: outcome.leftBehind.slice(0, 200),
  };
  await bus.publish(topic, message, { verdict: outcome.verdict, policy: outcome.policy });
  const fields = {
    verdict: outcome.verdict,
    policy: outcome.policy,
    cluster: clusterText(outcome.source),
    drillCluster: clusterText(outcome.drillCluster),
    drillId: outcome.drillId,
    backupId: outcome.backupId,
    rtoSeconds: outcome.rtoSeconds,
    reasons: message.reasons,
    leftBehind: message.leftBehind,
  };
  // A drill announced again (its job redelivered) has already paged, if it was to.
  if (options.again) logger.info(fields, 'restore drill already finished: announced again');
  else if (outcome.verdict === 'failed') logger.error(fields, DRILL_FAILED_LOG);
  else logger.info(fields, 'restore drill passed');
}

/** The announcement of a drill that wrote its report. */
export function outcomeOf(report: DrillReport): DrillOutcome {
  return {
    drillId: report.drillId,
    policy: report.policy,
    source: report.source,
    drillCluster: report.drillCluster,
    backupId: report.backupId,
    verdict: report.verdict,
    rtoSeconds: report.rtoSeconds,
    reportKey: drillReportKey(report),
    reasons: report.reasons,
    leftBehind: report.leftBehind,
  };
}
