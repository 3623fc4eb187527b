import { Type, type Static } from '@sinclair/typebox';
import { BackupId, ClusterRef, messageSchema } from './common.js';

/** The audit log methods answered: cluster deletion and creation, through either API version. */
export const WatchedMethods = [
  'google.container.v1.ClusterManager.DeleteCluster',
  'google.container.v1.ClusterManager.CreateCluster',
  'google.container.v1beta1.ClusterManager.DeleteCluster',
  'google.container.v1beta1.ClusterManager.CreateCluster',
] as const;

/** An id the log or an operation gives (insertId, operation.id): printable, bounded. */
const EntryId = Type.String({ minLength: 1, maxLength: 256, pattern: '^[-_.:/A-Za-z0-9]+$' });

/**
 * An Admin Activity audit log entry as a log sink forwards it to Pub/Sub
 * (a LogEntry whose protoPayload is an AuditLog). Only the fields Lifeboat
 * reads are required, each with the shape and size GKE gives it (the
 * cluster's labels those of a ClusterRef, the method one of the two the
 * log sink forwards); the rest of the entry is allowed through untouched.
 */
export const AuditLogEntry = Type.Object({
  insertId: Type.Optional(EntryId),
  logName: Type.String({
    maxLength: 512,
    pattern:
      '^(projects|organizations|folders|billingAccounts)/[-_.:A-Za-z0-9]{1,128}/logs/cloudaudit\\.googleapis\\.com%2Factivity$',
  }),
  timestamp: Type.String({ format: 'date-time', minLength: 20, maxLength: 40 }),
  resource: Type.Object({
    type: Type.Literal('gke_cluster'),
    labels: Type.Object({
      project_id: ClusterRef.properties.project,
      location: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }),
      cluster_name: ClusterRef.properties.name,
    }),
  }),
  protoPayload: Type.Object({
    '@type': Type.Literal('type.googleapis.com/google.cloud.audit.AuditLog'),
    serviceName: Type.Literal('container.googleapis.com'),
    methodName: Type.Union(WatchedMethods.map((m) => Type.Literal(m))),
    resourceName: Type.String({ minLength: 1, maxLength: 512 }),
    status: Type.Optional(
      Type.Object({ code: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })) }),
    ),
  }),
  operation: Type.Optional(
    Type.Object({
      id: Type.Optional(EntryId),
      first: Type.Optional(Type.Boolean()),
      last: Type.Optional(Type.Boolean()),
    }),
  ),
});
export type AuditLogEntry = Static<typeof AuditLogEntry>;

export const ClusterResponseActions = [
  'last-chance-snapshots',
  'locked-backups',
  'standby-restore-requested',
  'recreate-restore-requested',
  'ignored',
] as const;

/** What the pipeline did about a cluster event. */
export const ClusterResponse = messageSchema('ClusterResponse', {
  cluster: ClusterRef,
  methodName: Type.String(),
  actions: Type.Array(Type.Union(ClusterResponseActions.map((a) => Type.Literal(a)))),
  lockedBackups: Type.Array(BackupId),
  snapshots: Type.Array(Type.String()),
  restoreId: Type.Optional(BackupId),
  notes: Type.Array(Type.String()),
});
export type ClusterResponse = Static<typeof ClusterResponse>;
