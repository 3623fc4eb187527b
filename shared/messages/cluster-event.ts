import { Type, type Static } from '@sinclair/typebox';
import { API_VERSION, BackupId, ClusterRef, Timestamp } from './common.js';

export const WatchedMethods = [
  'google.container.v1.ClusterManager.DeleteCluster',
  'google.container.v1.ClusterManager.CreateCluster',
] as const;

/**
 * An Admin Activity audit log entry as a log sink forwards it to Pub/Sub
 * (a LogEntry whose protoPayload is an AuditLog). Only the fields Lifeboat
 * reads are required; the rest of the entry is allowed through untouched.
 */
export const AuditLogEntry = Type.Object({
  insertId: Type.Optional(Type.String()),
  logName: Type.String({ pattern: '/logs/cloudaudit\\.googleapis\\.com%2Factivity$' }),
  timestamp: Timestamp,
  resource: Type.Object({
    type: Type.Literal('gke_cluster'),
    labels: Type.Object({
      project_id: Type.String({ minLength: 1 }),
      location: Type.String({ minLength: 1 }),
      cluster_name: Type.String({ minLength: 1 }),
    }),
  }),
  protoPayload: Type.Object({
    '@type': Type.Literal('type.googleapis.com/google.cloud.audit.AuditLog'),
    serviceName: Type.Literal('container.googleapis.com'),
    methodName: Type.String({ minLength: 1 }),
    resourceName: Type.String({ minLength: 1 }),
    status: Type.Optional(Type.Object({ code: Type.Optional(Type.Integer()) })),
  }),
  operation: Type.Optional(
    Type.Object({
      id: Type.Optional(Type.String()),
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
export const ClusterResponse = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('ClusterResponse'),
    cluster: ClusterRef,
    methodName: Type.String(),
    actions: Type.Array(Type.Union(ClusterResponseActions.map((a) => Type.Literal(a)))),
    lockedBackups: Type.Array(BackupId),
    snapshots: Type.Array(Type.String()),
    restoreId: Type.Optional(BackupId),
    notes: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type ClusterResponse = Static<typeof ClusterResponse>;
