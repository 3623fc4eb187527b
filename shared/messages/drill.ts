import { Type, type Static } from '@sinclair/typebox';
import {
  BackupId,
  BackupPolicy,
  ClusterRef,
  KubeName,
  messageSchema,
  Timestamp,
} from './common.js';
import { Counts } from './backup.js';

const PolicyName = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$' });

/**
 * A drill's id. Short, because every drilled namespace is renamed
 * `drill-<id>-<namespace>` and a namespace name is a DNS label (63 characters).
 */
export const DrillId = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$' });

/** What counts as a pass; both checks are on unless a policy turns one off. */
export const DrillPassCriteria = Type.Object(
  {
    /** Every selected object restored, and equal to its catalog record. */
    objectsEqualCatalog: Type.Boolean({ default: true }),
    /** Every restored PVC bound to a disk restored from its snapshot (only with restoreVolumes). */
    volumesBoundToRestoredDisks: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);
export type DrillPassCriteria = Static<typeof DrillPassCriteria>;

/**
 * A restore drill policy: which clusters' backups are drilled, when, and
 * into which drill cluster. The cluster selector has BackupPolicy's shape.
 */
export const DrillPolicy = Type.Object(
  {
    name: PolicyName,
    projects: BackupPolicy.properties.projects,
    locations: BackupPolicy.properties.locations,
    clusterNames: BackupPolicy.properties.clusterNames,
    clusterLabels: BackupPolicy.properties.clusterLabels,
    /** Only backups taken under these backup policies are drilled (any, when absent). */
    backupPolicies: Type.Optional(Type.Array(PolicyName, { minItems: 1 })),
    /** Cron (Cloud Scheduler syntax), e.g. "0 6 * * 1". */
    schedule: Type.String({ minLength: 9, maxLength: 100, default: '0 6 * * 1' }),
    /** The only cluster a drill of this policy ever writes to. */
    drillCluster: ClusterRef,
    /** Namespace globs to drill; default every namespace the backup holds. */
    namespaces: Type.Array(KubeName, { default: ['*'] }),
    excludeNamespaces: Type.Array(KubeName, { default: [] }),
    /** Volume data comes back too: disks made from the snapshots, so the snapshots are proven. */
    restoreVolumes: Type.Boolean({ default: true }),
    /** How long a drill may take from request to verified; longer fails it. */
    timeoutSeconds: Type.Integer({ minimum: 30, maximum: 86_400, default: 3600 }),
    pass: Type.Optional(DrillPassCriteria),
  },
  { additionalProperties: false },
);
export type DrillPolicy = Static<typeof DrillPolicy>;

/** The message on the drill topic: drill one cluster's backup (or every matched cluster's). */
export const DrillJob = messageSchema('DrillJob', {
  drillId: DrillId,
  policy: DrillPolicy,
  /** The cluster whose backup is drilled; absent: every cluster the policy matches. */
  cluster: Type.Optional(ClusterRef),
  /** The backup drilled; absent: the cluster's latest Completed backup. */
  backupId: Type.Optional(BackupId),
  /** When the drill was asked for (the schedule's time): the RTO counts from here. */
  requestedAt: Type.Optional(Timestamp),
});
export type DrillJob = Static<typeof DrillJob>;

export const DrillVerdicts = ['passed', 'failed'] as const;
export type DrillVerdict = (typeof DrillVerdicts)[number];
const Verdict = Type.Union(DrillVerdicts.map((v) => Type.Literal(v)));

/** Something a drill created and could not remove: what, and where. */
export const LeftBehind = Type.String({ minLength: 1, maxLength: 2000 });

/** Published when a drill ends: carries the verdict, so a failed drill can page. */
export const DrillCompleted = messageSchema('DrillCompleted', {
  drillId: DrillId,
  policy: PolicyName,
  source: ClusterRef,
  backupId: Type.Optional(BackupId),
  drillCluster: ClusterRef,
  verdict: Verdict,
  /** Request to verified, in seconds; absent when the drill never got as far as verifying. */
  rtoSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  reportKey: Type.Optional(Type.String({ minLength: 1 })),
  reasons: Type.Array(Type.String()),
  leftBehind: Type.Array(LeftBehind),
});
export type DrillCompleted = Static<typeof DrillCompleted>;

/** One restored object that is not what its catalog record says (or did not come back). */
export const DrillObjectMismatch = Type.Object(
  {
    resource: Type.String(),
    namespace: Type.Optional(Type.String()),
    name: Type.String(),
    /** 'missing', 'differs' (with the first differing paths), or 'failed' (the restore's reason). */
    problem: Type.Union([Type.Literal('missing'), Type.Literal('differs'), Type.Literal('failed')]),
    detail: Type.Optional(Type.String()),
    /** A cluster-scoped object the drill cluster already had: compared, not overwritten; noted, not failed. */
    inPlace: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type DrillObjectMismatch = Static<typeof DrillObjectMismatch>;

/** One restored claim and the disk it must be bound to. */
export const DrillVolumeCheck = Type.Object(
  {
    pvName: Type.String(),
    claim: Type.Optional(Type.String()),
    /** The disk restored from the volume's snapshot. */
    disk: Type.Optional(Type.String()),
    snapshot: Type.Optional(Type.String()),
    bound: Type.Boolean(),
    detail: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type DrillVolumeCheck = Static<typeof DrillVolumeCheck>;

/** backups/<cluster>/<backupId>/drills/<drillId>.json: what a drill did and found. */
export const DrillReport = messageSchema('DrillReport', {
  drillId: DrillId,
  policy: PolicyName,
  source: ClusterRef,
  backupId: Type.Optional(BackupId),
  drillCluster: ClusterRef,
  /** The restore id of the drill's restore: the value of its objects' restore label. */
  restoreId: BackupId,
  verdict: Verdict,
  requestedAt: Timestamp,
  /** When every check had run; absent when the drill stopped before verifying. */
  verifiedAt: Type.Optional(Timestamp),
  completedAt: Timestamp,
  rtoSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  /** Source namespace -> drill namespace. */
  namespaces: Type.Record(Type.String(), Type.String()),
  restorePhase: Type.Optional(Type.String()),
  restoreCounts: Type.Optional(Counts),
  objects: Type.Object(
    {
      compared: Type.Integer({ minimum: 0 }),
      equal: Type.Integer({ minimum: 0 }),
      /** Cluster-scoped objects the drill cluster already had: compared, not overwritten. */
      comparedInPlace: Type.Integer({ minimum: 0 }),
      mismatches: Type.Array(DrillObjectMismatch),
    },
    { additionalProperties: false },
  ),
  volumes: Type.Array(DrillVolumeCheck),
  cleanup: Type.Object(
    {
      objectsDeleted: Type.Integer({ minimum: 0 }),
      disksDeleted: Type.Integer({ minimum: 0 }),
    },
    { additionalProperties: false },
  ),
  reasons: Type.Array(Type.String()),
  leftBehind: Type.Array(LeftBehind),
});
export type DrillReport = Static<typeof DrillReport>;
