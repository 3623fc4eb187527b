import { Type, type Static } from '@sinclair/typebox';
import {
  BackupId,
  BackupPhase,
  BackupPolicy,
  ClusterRef,
  messageSchema,
  Timestamp,
} from './common.js';

/** The backup a message is about: its id and its cluster. */
const OfBackup = { backupId: BackupId, cluster: ClusterRef };
/** A unit of a backup's work carries its policy whole: no database is consulted. */
const OfBackupJob = { ...OfBackup, policy: BackupPolicy };

/** Published by Cloud Scheduler: back up every cluster the policy matches. */
export const ScheduleTick = messageSchema('ScheduleTick', {
  policy: BackupPolicy,
  scheduledTime: Type.Optional(Timestamp),
});
export type ScheduleTick = Static<typeof ScheduleTick>;

/** One cluster to back up; the id is deterministic so a redelivered tick changes nothing. */
export const ClusterBackupJob = messageSchema('ClusterBackupJob', {
  ...OfBackupJob,
  scheduledTime: Timestamp,
});
export type ClusterBackupJob = Static<typeof ClusterBackupJob>;

export const ResourceRef = Type.Object(
  {
    group: Type.String(),
    version: Type.String({ minLength: 1 }),
    resource: Type.String({ minLength: 1 }),
    kind: Type.String({ minLength: 1 }),
    namespaced: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ResourceRef = Static<typeof ResourceRef>;

/** A slice of one API resource's LIST, small enough to finish far inside the time limit. */
export const ExportShard = messageSchema('ExportShard', {
  ...OfBackupJob,
  shardId: Type.String({ pattern: '^[a-z0-9][-a-z0-9.]*$', maxLength: 200 }),
  resource: ResourceRef,
  /** Segments of one shard: a shard that meets its time budget hands over to segment + 1. */
  segment: Type.Integer({ minimum: 0, default: 0 }),
  /** Where the previous segment stopped. */
  start: Type.Optional(
    Type.Object(
      {
        continueToken: Type.Optional(Type.String()),
        afterKey: Type.Optional(Type.String()),
        /** Listed namespace by namespace: the namespace the token and key belong to. */
        namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
        /** False once a page was listed at another revision than the plan's. */
        atRevision: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  ),
});
export type ExportShard = Static<typeof ExportShard>;

/** One persistent volume to capture: each disk is its own unit of work. */
export const VolumeSnapshotJob = messageSchema('VolumeSnapshotJob', {
  ...OfBackupJob,
  pvName: Type.String({ minLength: 1, maxLength: 253 }),
  /**
   * Set on a job handed over by an invocation whose budget ran out while
   * its snapshot was still being made: when the first attempt began, from
   * which the policy's snapshotTimeoutSeconds counts.
   */
  firstAttemptAt: Type.Optional(Timestamp),
  /** How many invocations have handed this job over so far. */
  handovers: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** What the hooks of earlier invocations reported (they ran there, around the cut). */
  hookResults: Type.Optional(
    Type.Object(
      {
        errors: Type.Array(Type.String({ maxLength: 4000 }), { maxItems: 64 }),
        warnings: Type.Array(Type.String({ maxLength: 4000 }), { maxItems: 64 }),
      },
      { additionalProperties: false },
    ),
  ),
});
export type VolumeSnapshotJob = Static<typeof VolumeSnapshotJob>;

export const PartKind = ['plan', 'manifests', 'volume'] as const;

/** A shard or disk unit reporting in; the catalog is written when every expected part has. */
export const PartDone = messageSchema('PartDone', {
  ...OfBackup,
  partId: Type.String({ minLength: 1, maxLength: 200 }),
  partKind: Type.Union(PartKind.map((k) => Type.Literal(k))),
  ok: Type.Boolean(),
  error: Type.Optional(Type.String()),
});
export type PartDone = Static<typeof PartDone>;

export const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));

export const BackupCompleted = messageSchema('BackupCompleted', {
  ...OfBackup,
  phase: Type.Union(BackupPhase.map((p) => Type.Literal(p))),
  catalogKey: Type.String({ minLength: 1 }),
  counts: Counts,
  errors: Type.Array(Type.String()),
  /** The etcd revision the backup was listed at (a point in time). */
  revision: Type.Optional(Type.String()),
  /** Resources (qualified names) that could not be listed at that revision: listed later. */
  notAtRevision: Type.Optional(Type.Array(Type.String())),
});
export type BackupCompleted = Static<typeof BackupCompleted>;

/** Expire backups, snapshots and unreferenced objects. */
export const RetentionTick = messageSchema('RetentionTick', {
  scheduledTime: Type.Optional(Timestamp),
  dryRun: Type.Boolean({ default: false }),
});
export type RetentionTick = Static<typeof RetentionTick>;
