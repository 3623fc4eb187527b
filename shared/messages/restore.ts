import { Type, type Static } from '@sinclair/typebox';
import { BackupId, ClusterRef, KubeName, messageSchema } from './common.js';
import { Counts } from './backup.js';

export const ConflictPolicies = ['fail', 'skip', 'replace'] as const;
export type ConflictPolicy = (typeof ConflictPolicies)[number];
export const VolumeDataPolicies = [
  'restore-from-snapshot',
  'reuse-volume-handle',
  'no-volume-data',
] as const;
export type VolumeDataPolicy = (typeof VolumeDataPolicies)[number];

/** One JSON-patch operation (RFC 6902). */
export const PatchOperation = Type.Object(
  {
    op: Type.Union(
      ['add', 'remove', 'replace', 'copy', 'move', 'test'].map((o) => Type.Literal(o)),
    ),
    path: Type.String({ pattern: '^/' }),
    value: Type.Optional(Type.Unknown()),
    from: Type.Optional(Type.String({ pattern: '^/' })),
  },
  { additionalProperties: false },
);

/** Patch every restored object that the filter matches. */
export const TransformationRule = Type.Object(
  {
    description: Type.Optional(Type.String()),
    resources: Type.Array(Type.String({ minLength: 1 }), { default: ['*'] }),
    namespaces: Type.Array(Type.String({ minLength: 1 }), { default: ['*'] }),
    names: Type.Array(Type.String({ minLength: 1 }), { default: ['*'] }),
    patch: Type.Array(PatchOperation, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type TransformationRule = Static<typeof TransformationRule>;

export const RestoreOptions = Type.Object(
  {
    includeNamespaces: Type.Array(Type.String({ minLength: 1 }), { default: ['*'] }),
    excludeNamespaces: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    includeResources: Type.Array(Type.String({ minLength: 1 }), { default: ['*'] }),
    excludeResources: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    namespaceMapping: Type.Record(Type.String(), Type.String(), { default: {} }),
    conflictPolicy: Type.Union(
      ConflictPolicies.map((p) => Type.Literal(p)),
      { default: 'fail' },
    ),
    volumeDataPolicy: Type.Union(
      VolumeDataPolicies.map((p) => Type.Literal(p)),
      {
        default: 'restore-from-snapshot',
      },
    ),
    zoneMapping: Type.Record(Type.String(), Type.String(), { default: {} }),
    targetProject: Type.Optional(Type.String()),
    transformations: Type.Array(TransformationRule, { default: [] }),
    restoreOwnedObjects: Type.Boolean({ default: false }),
    /**
     * Custom resources get their backed-up status back (through the status
     * subresource when their CRD has one). Absent means true: left without
     * a default so requests written before it keep their digest.
     */
    restoreStatus: Type.Optional(Type.Boolean()),
    dryRun: Type.Boolean({ default: false }),
    parallelism: Type.Integer({ minimum: 1, maximum: 64, default: 16 }),
  },
  { additionalProperties: false },
);
export type RestoreOptions = Static<typeof RestoreOptions>;

export const BackupSelector = Type.Union([
  Type.Object({ backupId: BackupId, cluster: ClusterRef }, { additionalProperties: false }),
  Type.Object({ latestOf: ClusterRef }, { additionalProperties: false }),
]);
export type BackupSelector = Static<typeof BackupSelector>;

/**
 * A deployed restore plan's name; `standby:<policy>` and `recreate:<policy>`
 * are the plans a backup policy's standbyCluster and restoreOnRecreate imply.
 */
export const RestorePlanName = Type.String({
  pattern: '^((standby|recreate):)?[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$',
});

/** Clusters by project, location glob ('-' for every one) and name glob. */
export const ClusterPattern = Type.Object(
  {
    project: Type.String({ minLength: 1, maxLength: 30 }),
    location: Type.String({ minLength: 1, maxLength: 63, default: '-' }),
    name: Type.String({ minLength: 1, maxLength: 63, default: '*' }),
  },
  { additionalProperties: false },
);
export type ClusterPattern = Static<typeof ClusterPattern>;

/**
 * What may be restored, from where, to where and how: deployed configuration
 * (as Backup for GKE's RestorePlan), never message content. A RestoreRequest
 * names a plan and can only narrow it.
 */
export const RestorePlan = Type.Object(
  {
    name: RestorePlanName,
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    /** Whose backups the plan may restore. */
    sourceClusters: Type.Array(ClusterPattern, { minItems: 1 }),
    /** Only backups taken under these backup policies (any, when absent). */
    backupPolicies: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$' }), {
        minItems: 1,
      }),
    ),
    /** The clusters it may restore into (exactly these). */
    targetClusters: Type.Array(ClusterRef, { default: [] }),
    /** It may also restore a backup into the very cluster it was taken from (a recreated cluster). */
    restoreIntoSource: Type.Boolean({ default: false }),
    options: RestoreOptions,
  },
  { additionalProperties: false },
);
export type RestorePlan = Static<typeof RestorePlan>;

/** What a request may change in its plan: select fewer namespaces or resources, or only look. */
export const RestoreNarrowing = Type.Object(
  {
    includeNamespaces: Type.Optional(Type.Array(KubeName)),
    excludeNamespaces: Type.Optional(Type.Array(KubeName)),
    includeResources: Type.Optional(Type.Array(KubeName)),
    excludeResources: Type.Optional(Type.Array(KubeName)),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type RestoreNarrowing = Static<typeof RestoreNarrowing>;

export const RestoreRequest = messageSchema('RestoreRequest', {
  restoreId: BackupId,
  /** The deployed restore plan that authorises this restore and decides its options. */
  plan: RestorePlanName,
  backup: BackupSelector,
  target: ClusterRef,
  narrow: Type.Optional(RestoreNarrowing),
  /** Set on a chained step: the backup resolved by the first step (latestOf is resolved once). */
  resolvedBackupId: Type.Optional(BackupId),
  step: Type.Integer({ minimum: 0, default: 0 }),
});
export type RestoreRequest = Static<typeof RestoreRequest>;

export const RestorePhases = ['Completed', 'PartiallyFailed', 'Failed'] as const;

export const RestoreCompleted = messageSchema('RestoreCompleted', {
  restoreId: BackupId,
  backupId: Type.Optional(BackupId),
  target: ClusterRef,
  phase: Type.Union(RestorePhases.map((p) => Type.Literal(p))),
  reportKey: Type.Optional(Type.String()),
  counts: Counts,
  errors: Type.Array(Type.String()),
});
export type RestoreCompleted = Static<typeof RestoreCompleted>;
