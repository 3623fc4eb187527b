import {
  Type,
  type Static,
  type TLiteral,
  type TObject,
  type TProperties,
} from '@sinclair/typebox';

/** The message protocol's version, carried by every message (and by format 1 catalogs and packs). */
export const API_VERSION = 'lifeboat.dev/v1';

/** The fields every message and report starts with: the protocol's version and its kind. */
export type Header<K extends string> = {
  apiVersion: TLiteral<typeof API_VERSION>;
  kind: TLiteral<K>;
};

/**
 * The schema of a message (or a report) of one kind: the header, then its
 * own fields, and nothing else.
 */
export function messageSchema<K extends string, P extends TProperties>(
  kind: K,
  properties: P,
): TObject<Header<K> & P> {
  const header: Header<K> = { apiVersion: Type.Literal(API_VERSION), kind: Type.Literal(kind) };
  return Type.Object({ ...header, ...properties }, { additionalProperties: false });
}

/** A Kubernetes name or name glob (a namespace, a resource, a cluster): at most 253 characters. */
export const KubeName = Type.String({ minLength: 1, maxLength: 253 });
export const Timestamp = Type.String({ format: 'date-time', minLength: 20 });
export const BackupId = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' });

/** A GKE cluster (project, location, name) or, in local mode, a kubeconfig context. */
export const ClusterRef = Type.Object(
  {
    project: Type.String({ pattern: '^[a-z][-a-z0-9]{4,28}[a-z0-9]$|^local$' }),
    location: Type.String({ minLength: 1, maxLength: 63 }),
    name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }),
  },
  { additionalProperties: false },
);
export type ClusterRef = Static<typeof ClusterRef>;

export const IncludeClusterResources = ['auto', 'on', 'off'] as const;

/** What to back up, in the spirit of Velero's filters. */
export const BackupFilters = Type.Object(
  {
    includeNamespaces: Type.Array(KubeName, { default: ['*'] }),
    excludeNamespaces: Type.Array(KubeName, { default: [] }),
    includeResources: Type.Array(KubeName, { default: ['*'] }),
    excludeResources: Type.Array(KubeName, { default: [] }),
    labelSelector: Type.Optional(Type.String()),
    includeClusterResources: Type.Union(
      IncludeClusterResources.map((v) => Type.Literal(v)),
      { default: 'auto' },
    ),
  },
  { additionalProperties: false },
);
export type BackupFilters = Static<typeof BackupFilters>;

/** A backup policy, carried whole by every message that needs it so no database is consulted. */
export const BackupPolicy = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$' }),
    projects: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    locations: Type.Array(Type.String({ minLength: 1 }), { default: ['-'] }),
    clusterNames: Type.Array(KubeName, { default: ['*'] }),
    clusterLabels: Type.Record(Type.String(), Type.String(), { default: {} }),
    filters: Type.Optional(BackupFilters),
    snapshotVolumes: Type.Boolean({ default: true }),
    /** VolumeSnapshotClass per CSI driver, for volumes that are not GCE persistent disks. */
    csiSnapshotClasses: Type.Optional(Type.Record(Type.String(), Type.String())),
    snapshotStorageLocations: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    snapshotType: Type.Optional(Type.Union([Type.Literal('STANDARD'), Type.Literal('ARCHIVE')])),
    /** How long one disk's snapshot may take before the volume counts as failed. */
    snapshotTimeoutSeconds: Type.Optional(
      Type.Integer({ minimum: 10, maximum: 3600, default: 480 }),
    ),
    ttlDays: Type.Integer({ minimum: 1, default: 30 }),
    keepLast: Type.Optional(Type.Integer({ minimum: 1 })),
    deleteLockDays: Type.Integer({ minimum: 0, default: 0 }),
    standbyCluster: Type.Optional(ClusterRef),
    /**
     * Where the standby restore puts disks from each source zone; zones not
     * named go into the standby cluster's own zones (same letter first).
     */
    standbyZoneMapping: Type.Optional(Type.Record(Type.String(), Type.String())),
    restoreOnRecreate: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type BackupPolicy = Static<typeof BackupPolicy>;

export const BackupPhase = ['Completed', 'PartiallyFailed', 'Failed'] as const;
export type BackupPhase = (typeof BackupPhase)[number];
