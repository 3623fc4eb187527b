import type { API_VERSION, ClusterRef } from '../messages/common.js';

/** What became of one object; a report counts each, zero included. */
const OUTCOMES = [
  'restored',
  'replaced',
  'skipped',
  'failed',
  'would-restore',
  'would-conflict',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface ObjectOutcome {
  resource: string;
  kind: string;
  namespace?: string;
  name: string;
  outcome: Outcome;
  reason?: string;
}

/** restores/<id>/report.json: what happened to every object, and why. */
export interface RestoreReport {
  apiVersion: typeof API_VERSION;
  kind: 'RestoreReport';
  restoreId: string;
  /** The digest of the request's content (restoreContentDigest); absent in reports of older versions. */
  requestDigest?: string;
  backupId: string;
  source: ClusterRef;
  target: ClusterRef;
  dryRun: boolean;
  phase: 'Completed' | 'PartiallyFailed' | 'Failed';
  startedAt: string;
  completedAt: string;
  counts: Record<Outcome, number>;
  volumes: { pvName: string; outcome: string; disk?: string; reason?: string }[];
  errors: string[];
  outcomes: ObjectOutcome[];
}

export function countOutcomes(outcomes: ObjectOutcome[]): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const o of outcomes) counts[o.outcome] += 1;
  return counts;
}
