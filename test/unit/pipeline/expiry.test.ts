import { strict as assert } from 'node:assert';
import type { Catalog } from '../../../shared/catalog/catalog-schema.js';
import { BackupPolicy, type BackupPhase } from '../../../shared/messages/common.js';
import { decideExpiry } from '../../../shared/pipeline/expiry.js';
import { lastChanceBackupId } from '../../../shared/pipeline/last-chance.js';
import { validate } from '../../../shared/validate.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const CLUSTER = { project: 'my-project', location: 'us-central1', name: 'prod' };

/** The id a last-chance backup gets: starts with `lastchance-`. */
const LAST_CHANCE = lastChanceBackupId('projects/my-project/operations/delete-1');

interface Row {
  id: string;
  policy: string;
  ttlDays?: number;
  keepLast?: number;
  deleteLockDays?: number;
  phase?: BackupPhase;
  daysAgo: number;
  locked?: boolean;
}

interface Case {
  name: string;
  backups: Row[];
  expired: string[];
  /** Per backup id, a substring its decision's reason must contain. */
  reasons?: Record<string, string>;
}

function catalogOf(row: Row): Catalog {
  const policy = validate(
    BackupPolicy,
    {
      name: row.policy,
      projects: [CLUSTER.project],
      ...(row.ttlDays === undefined ? {} : { ttlDays: row.ttlDays }),
      ...(row.keepLast === undefined ? {} : { keepLast: row.keepLast }),
      ...(row.deleteLockDays === undefined ? {} : { deleteLockDays: row.deleteLockDays }),
    },
    'x',
  );
  const completedAt = new Date(NOW - row.daysAgo * DAY).toISOString();
  return {
    formatVersion: 2,
    writtenBy: 'lifeboat test',
    kind: 'Catalog',
    backupId: row.id,
    cluster: CLUSTER,
    kubernetesVersion: 'v1.33.0',
    policy,
    phase: row.phase ?? 'Completed',
    startedAt: new Date(NOW - row.daysAgo * DAY - 60_000).toISOString(),
    completedAt,
    counts: { objects: 0, packs: 0, packBytes: 0, volumes: 0, secrets: 0 },
    resources: [],
    packs: [],
    volumes: [],
    warnings: [],
    errors: [],
    digest: '0'.repeat(64),
  };
}

const hourly = { policy: 'hourly', keepLast: 2 } as const;
const nightly = { policy: 'nightly', keepLast: 3 } as const;

const cases: Case[] = [
  {
    name: 'an empty list decides nothing',
    backups: [],
    expired: [],
  },
  {
    name: 'expires a backup past its TTL and keeps one within it',
    backups: [
      { id: 'b1', policy: 'p', ttlDays: 30, daysAgo: 40 },
      { id: 'b2', policy: 'p', ttlDays: 30, daysAgo: 29 },
      { id: 'b3', policy: 'p', ttlDays: 30, daysAgo: 1 },
    ],
    expired: ['b1'],
    reasons: { b1: '30-day TTL', b2: 'within its 30-day TTL' },
  },
  {
    name: 'the TTL is per policy: a 7-day policy expires at 10 days, a 30-day one does not',
    backups: [
      { id: 'short', policy: 'weekly', ttlDays: 7, daysAgo: 10 },
      { id: 'long', policy: 'monthly', ttlDays: 30, daysAgo: 10 },
      { id: 'newest', policy: 'monthly', ttlDays: 30, daysAgo: 1 },
    ],
    expired: ['short'],
    reasons: { short: '7-day TTL' },
  },
  {
    name: 'keepLast keeps the N newest Completed backups of one policy and expires the rest',
    backups: [
      { id: 'h1', ...hourly, daysAgo: 5 },
      { id: 'h2', ...hourly, daysAgo: 4 },
      { id: 'h3', ...hourly, daysAgo: 3 },
      { id: 'h4', ...hourly, daysAgo: 2 },
      { id: 'h5', ...hourly, daysAgo: 1 },
    ],
    expired: ['h1', 'h2', 'h3'],
    reasons: { h3: 'keep-last 2 of policy "hourly"', h4: 'within its 30-day TTL' },
  },
  {
    name: 'two policies on one cluster: an hourly keepLast 2 never expires the nightly backups',
    backups: [
      { id: 'n1', ...nightly, daysAgo: 3 },
      { id: 'h1', ...hourly, daysAgo: 2.9 },
      { id: 'h2', ...hourly, daysAgo: 2.5 },
      { id: 'n2', ...nightly, daysAgo: 2 },
      { id: 'h3', ...hourly, daysAgo: 1.9 },
      { id: 'h4', ...hourly, daysAgo: 1.5 },
      { id: 'n3', ...nightly, daysAgo: 1 },
      { id: 'h5', ...hourly, daysAgo: 0.9 },
      { id: 'h6', ...hourly, daysAgo: 0.5 },
    ],
    // Counted across both policies, n1 and n2 would be beyond nightly's keepLast 3 (and
    // hourly's 2): the cluster has eight and five newer Completed backups.
    expired: ['h1', 'h2', 'h3', 'h4'],
    reasons: { n1: 'within its 30-day TTL', h4: 'keep-last 2 of policy "hourly"' },
  },
  {
    name: 'two policies with keepLast each count their own backups only',
    backups: [
      { id: 'a1', policy: 'a', keepLast: 1, daysAgo: 4 },
      { id: 'b1', policy: 'b', keepLast: 2, daysAgo: 3.5 },
      { id: 'a2', policy: 'a', keepLast: 1, daysAgo: 3 },
      { id: 'b2', policy: 'b', keepLast: 2, daysAgo: 2.5 },
      { id: 'a3', policy: 'a', keepLast: 1, daysAgo: 2 },
      { id: 'b3', policy: 'b', keepLast: 2, daysAgo: 1.5 },
    ],
    expired: ['a1', 'a2', 'b1'],
  },
  {
    name: 'keepLast counts only Completed backups: newer failed attempts do not push good ones out',
    backups: [
      { id: 'c1', ...hourly, daysAgo: 5 },
      { id: 'c2', ...hourly, daysAgo: 4 },
      { id: 'f1', ...hourly, phase: 'Failed', daysAgo: 3 },
      { id: 'f2', ...hourly, phase: 'PartiallyFailed', daysAgo: 2 },
      { id: 'f3', ...hourly, phase: 'Failed', daysAgo: 1 },
    ],
    expired: [],
  },
  {
    name: 'keepLast keeps attempts newer than the N-th newest Completed one, and expires older ones of any phase',
    backups: [
      { id: 'f1', ...hourly, phase: 'Failed', daysAgo: 6 },
      { id: 'c1', ...hourly, daysAgo: 5 },
      { id: 'p1', ...hourly, phase: 'PartiallyFailed', daysAgo: 4 },
      { id: 'c2', ...hourly, daysAgo: 3 },
      { id: 'f2', ...hourly, phase: 'Failed', daysAgo: 2.5 },
      { id: 'c3', ...hourly, daysAgo: 2 },
      { id: 'p2', ...hourly, phase: 'PartiallyFailed', daysAgo: 1 },
    ],
    // The 2nd newest Completed is c2: c2 and everything newer stays.
    expired: ['f1', 'c1', 'p1'],
    reasons: { p1: '2 newer Completed backups', f2: 'within its 30-day TTL' },
  },
  {
    name: 'deleteLockDays keeps a young backup beyond keepLast',
    backups: [
      { id: 'old', policy: 'p', keepLast: 1, deleteLockDays: 7, daysAgo: 10 },
      { id: 'young1', policy: 'p', keepLast: 1, deleteLockDays: 7, daysAgo: 3 },
      { id: 'young2', policy: 'p', keepLast: 1, deleteLockDays: 7, daysAgo: 2 },
      { id: 'young3', policy: 'p', keepLast: 1, deleteLockDays: 7, daysAgo: 1 },
    ],
    expired: ['old'],
    reasons: { young1: 'delete-lock for 7 days', old: 'keep-last 1' },
  },
  {
    name: 'deleteLockDays keeps a young backup past its TTL',
    backups: [
      { id: 'b1', policy: 'p', ttlDays: 1, deleteLockDays: 7, daysAgo: 5 },
      { id: 'b2', policy: 'p', ttlDays: 1, deleteLockDays: 7, daysAgo: 8 },
      { id: 'b3', policy: 'p', ttlDays: 1, deleteLockDays: 7, daysAgo: 0.1 },
    ],
    expired: ['b2'],
    reasons: { b1: 'delete-lock for 7 days', b2: '1-day TTL' },
  },
  {
    name: 'a locked backup never expires, even past its TTL and beyond keepLast',
    backups: [
      { id: 'kept', policy: 'p', keepLast: 1, ttlDays: 30, daysAgo: 100, locked: true },
      { id: 'b1', policy: 'p', keepLast: 1, ttlDays: 30, daysAgo: 2 },
      { id: 'b2', policy: 'p', keepLast: 1, ttlDays: 30, daysAgo: 1 },
    ],
    expired: ['b1'],
    reasons: { kept: 'locked' },
  },
  {
    name: 'a locked backup does not count toward keepLast',
    backups: [
      { id: 'b1', ...hourly, daysAgo: 3 },
      { id: 'locked', ...hourly, daysAgo: 2, locked: true },
      { id: 'b2', ...hourly, daysAgo: 1 },
    ],
    // Counting the locked one, b1 would have two newer Completed backups.
    expired: [],
  },
  {
    name: 'a last-chance backup does not count toward keepLast',
    backups: [
      { id: 'b1', policy: 'p', keepLast: 1, daysAgo: 10 },
      { id: 'b2', policy: 'p', keepLast: 1, daysAgo: 5 },
      { id: 'b3', policy: 'p', keepLast: 1, daysAgo: 3 },
      { id: LAST_CHANCE, policy: 'p', keepLast: 1, daysAgo: 2 },
      { id: 'b4', policy: 'p', keepLast: 1, phase: 'Failed', daysAgo: 1 },
    ],
    // b3 is the newest counted Completed backup; counting the last-chance one would expire it.
    expired: ['b1', 'b2'],
  },
  {
    name: 'a last-chance backup stays until its own TTL, beyond keepLast',
    backups: [
      { id: LAST_CHANCE, policy: 'p', keepLast: 1, ttlDays: 30, daysAgo: 20 },
      { id: 'b1', policy: 'p', keepLast: 1, ttlDays: 30, daysAgo: 10 },
      { id: 'b2', policy: 'p', keepLast: 1, ttlDays: 30, daysAgo: 5 },
    ],
    expired: ['b1'],
    reasons: { [LAST_CHANCE]: 'last-chance backup, kept for its 30-day TTL' },
  },
  {
    name: 'a last-chance backup past its TTL expires',
    backups: [
      { id: LAST_CHANCE, policy: 'p', keepLast: 1, ttlDays: 30, daysAgo: 31 },
      { id: 'b1', policy: 'p', keepLast: 1, ttlDays: 30, daysAgo: 1 },
    ],
    expired: [LAST_CHANCE],
    reasons: { [LAST_CHANCE]: '30-day TTL' },
  },
  {
    name: 'the newest Completed backup of the cluster is never expired, even past its TTL',
    backups: [
      { id: 'old', policy: 'p', ttlDays: 30, daysAgo: 100 },
      { id: 'good', policy: 'p', ttlDays: 30, daysAgo: 90 },
      { id: 'failed', policy: 'p', ttlDays: 30, phase: 'Failed', daysAgo: 80 },
    ],
    expired: ['old'],
    reasons: { good: 'newest Completed backup', failed: 'the newest backup of its cluster' },
  },
  {
    name: 'the newest Completed backup is kept whichever policy took it; an older failed attempt past its TTL expires',
    backups: [
      { id: 'n1', policy: 'nightly', ttlDays: 7, daysAgo: 40 },
      { id: 'w1', policy: 'weekly', ttlDays: 7, phase: 'Failed', daysAgo: 30 },
      { id: 'w2', policy: 'weekly', ttlDays: 7, phase: 'PartiallyFailed', daysAgo: 20 },
    ],
    expired: ['w1'],
    reasons: { n1: 'newest Completed backup', w2: 'newest backup' },
  },
  {
    name: 'the newest backup of any phase is never expired, even past its TTL',
    backups: [
      { id: 'f1', policy: 'p', ttlDays: 30, phase: 'Failed', daysAgo: 100 },
      { id: 'f2', policy: 'p', ttlDays: 30, phase: 'PartiallyFailed', daysAgo: 90 },
      { id: 'f3', policy: 'p', ttlDays: 30, phase: 'Failed', daysAgo: 80 },
    ],
    // No Completed backup at all: only the newest attempt is protected.
    expired: ['f1', 'f2'],
    reasons: { f3: 'the newest backup of its cluster', f2: '30-day TTL' },
  },
  {
    name: 'keepLast counts only the catalogs given: a running backup (no catalog yet) does not count',
    backups: [
      { id: 'b1', ...hourly, daysAgo: 3 },
      { id: 'b2', ...hourly, daysAgo: 2 },
      // b3 is still running: it has no catalog and is not in the input.
    ],
    expired: [],
  },
  {
    name: 'once that backup has finished and its catalog is given, the oldest is beyond keepLast',
    backups: [
      { id: 'b1', ...hourly, daysAgo: 3 },
      { id: 'b2', ...hourly, daysAgo: 2 },
      { id: 'b3', ...hourly, daysAgo: 0.01 },
    ],
    expired: ['b1'],
  },
];

describe('decideExpiry', () => {
  for (const c of cases) {
    it(c.name, () => {
      const catalogs = c.backups.map(catalogOf);
      const locked = new Set(c.backups.filter((b) => b.locked).map((b) => b.id));
      const decisions = decideExpiry(catalogs, locked, NOW);
      // The input order must not matter: the same decisions from the list reversed.
      const reversed = decideExpiry([...catalogs].reverse(), locked, NOW);

      const ids = c.backups.map((b) => b.id).sort();
      assert.deepEqual(decisions.map((d) => d.backupId).sort(), ids, 'one decision per backup');
      const expired = decisions
        .filter((d) => d.expire)
        .map((d) => d.backupId)
        .sort();
      assert.deepEqual(expired, [...c.expired].sort());
      assert.deepEqual(
        reversed
          .filter((d) => d.expire)
          .map((d) => d.backupId)
          .sort(),
        expired,
        'input order changed the decisions',
      );
      for (const [id, reason] of Object.entries(c.reasons ?? {})) {
        const decision = decisions.find((d) => d.backupId === id);
        assert.ok(decision, `no decision for ${id}`);
        assert.ok(
          decision.reason.includes(reason),
          `${id}: reason "${decision.reason}" does not say "${reason}"`,
        );
      }
    });
  }
});
