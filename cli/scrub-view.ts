import type { ClusterRef } from '../shared/messages/common.js';
import { clusterLabel } from './find-backup.js';
import { formatTable } from './output.js';

export type ScrubResult = 'verified' | 'not-restorable' | 'incomplete';

/** One backup as `catalog verify --all` found it. */
export interface ScrubItem {
  cluster: ClusterRef;
  backupId: string;
  phase?: string;
  result: ScrubResult;
  /** Why it is not restorable, or incomplete. */
  reason?: string;
  objects?: number;
  packs?: number;
  secrets?: { sealed: number; opened: number };
  /** authenticated, unauthenticated, unverified (no key), or sealed by this run (`catalog seal`). */
  authenticity?: string;
}

export interface ScrubSummary {
  backups: number;
  verified: number;
  notRestorable: number;
  incomplete: number;
}

export const RESULT_TEXT: Record<ScrubResult, string> = {
  verified: 'verified',
  'not-restorable': 'NOT RESTORABLE',
  incomplete: 'incomplete',
};

export function scrubSummary(items: readonly ScrubItem[]): ScrubSummary {
  const count = (r: ScrubResult): number => items.filter((i) => i.result === r).length;
  return {
    backups: items.length,
    verified: count('verified'),
    notRestorable: count('not-restorable'),
    incomplete: count('incomplete'),
  };
}

/** One line per backup, then `N backups: X verified, Y not restorable, Z incomplete`. */
export function formatScrub(items: readonly ScrubItem[], s: ScrubSummary): string {
  const table = formatTable(
    ['CLUSTER', 'NAME', 'PHASE', 'RESULT', 'DETAIL'],
    items.map((i) => [
      clusterLabel(i.cluster),
      i.backupId,
      i.phase,
      RESULT_TEXT[i.result],
      i.reason ?? detail(i),
    ]),
  );
  const backups = s.backups === 1 ? '1 backup' : `${s.backups} backups`;
  return `${table}\n\n${backups}: ${s.verified} verified, ${s.notRestorable} not restorable, ${s.incomplete} incomplete`;
}

function detail(i: ScrubItem): string {
  const sealed = i.secrets?.sealed ?? 0;
  const opened = i.secrets?.opened ?? 0;
  const secrets =
    opened === sealed ? `${opened} secrets opened` : `${sealed} secrets not opened (no --key-file)`;
  return `${i.objects ?? 0} objects, ${i.packs ?? 0} packs, ${secrets}, ${i.authenticity ?? 'unverified'}`;
}
