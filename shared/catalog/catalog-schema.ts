import { Type, type Static } from '@sinclair/typebox';
import {
  API_VERSION,
  BackupId,
  BackupPhase,
  type BackupPolicy,
  ClusterRef,
  Timestamp,
} from '../messages/common.js';
import { ResourceRef } from '../messages/backup.js';

export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** One pack: a content-addressed, gzipped JSON-lines file of sanitised manifests of one resource. */
export const PackEntry = Type.Object(
  {
    digest: Sha256,
    /** Stored (gzipped) size in bytes. */
    bytes: Type.Integer({ minimum: 0 }),
    objects: Type.Integer({ minimum: 0 }),
    shardId: Type.String(),
    resource: ResourceRef,
  },
  { additionalProperties: false },
);
export type PackEntry = Static<typeof PackEntry>;

export const SnapshotStatuses = ['READY', 'FAILED', 'NOT_SNAPSHOTTED'] as const;

/** Where a volume's data lives and how it was captured. */
export const VolumeEntry = Type.Object(
  {
    pvName: Type.String({ minLength: 1 }),
    pvcNamespace: Type.Optional(Type.String()),
    pvcName: Type.Optional(Type.String()),
    driver: Type.String({
      description: 'pd.csi.storage.gke.io, kubernetes.io/gce-pd, or another CSI driver',
    }),
    storageClass: Type.Optional(Type.String()),
    capacity: Type.Optional(Type.String()),
    /** The source disk, when the volume is a Compute Engine persistent disk. */
    disk: Type.Optional(
      Type.Object(
        {
          project: Type.String(),
          name: Type.String(),
          zone: Type.Optional(Type.String()),
          region: Type.Optional(Type.String()),
          replicaZones: Type.Optional(Type.Array(Type.String())),
          type: Type.Optional(Type.String()),
          sizeGb: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Set when the volume was captured by a CSI VolumeSnapshot. */
    csiSnapshot: Type.Optional(
      Type.Object(
        {
          volumeSnapshotClass: Type.String(),
          namespace: Type.String(),
          name: Type.String(),
          snapshotHandle: Type.String(),
          restoreSize: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    snapshot: Type.Optional(
      Type.Object(
        {
          project: Type.String(),
          name: Type.String(),
          storageLocations: Type.Optional(Type.Array(Type.String())),
        },
        { additionalProperties: false },
      ),
    ),
    status: Type.Union(SnapshotStatuses.map((s) => Type.Literal(s))),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type VolumeEntry = Static<typeof VolumeEntry>;

const CatalogCounts = Type.Object(
  {
    objects: Type.Integer({ minimum: 0 }),
    packs: Type.Integer({ minimum: 0 }),
    packBytes: Type.Integer({ minimum: 0 }),
    volumes: Type.Integer({ minimum: 0 }),
    secrets: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** The fields every catalog format so far has in common. */
const catalogBody = {
  kind: Type.Literal('Catalog'),
  backupId: BackupId,
  cluster: ClusterRef,
  kubernetesVersion: Type.String(),
  phase: Type.Union(BackupPhase.map((p) => Type.Literal(p))),
  startedAt: Timestamp,
  completedAt: Timestamp,
  counts: CatalogCounts,
  encryption: Type.Optional(
    Type.Object(
      { keyId: Type.String(), wrappedBy: Type.String() },
      { additionalProperties: false },
    ),
  ),
  resources: Type.Array(
    Type.Object({ ...ResourceRef.properties, objects: Type.Integer({ minimum: 0 }) }),
  ),
  packs: Type.Array(PackEntry),
  volumes: Type.Array(VolumeEntry),
  warnings: Type.Array(Type.String()),
  errors: Type.Array(Type.String()),
  digest: Sha256,
};

/**
 * Format 1 (Lifeboat 0.1.0), frozen: the catalog shared the message
 * protocol's apiVersion. The policy is checked when upgraded, against the
 * policy schema of the reading version, never here, so that a later change
 * to the policy schema cannot make a stored catalog unreadable.
 */
export const StoredCatalogV1 = Type.Object(
  { apiVersion: Type.Literal(API_VERSION), ...catalogBody, policy: Type.Unknown() },
  { additionalProperties: false },
);

/** Format 2 (Lifeboat 0.2.0), frozen: a format version of its own, and who wrote it. */
export const StoredCatalogV2 = Type.Object(
  {
    formatVersion: Type.Literal(2),
    writtenBy: Type.String({ minLength: 1 }),
    ...catalogBody,
    policy: Type.Unknown(),
  },
  { additionalProperties: false },
);

/**
 * Format 3 (Lifeboat 0.3.0): a point in time. `revision` is the etcd
 * revision the backup was listed at, and each resource says whether it was
 * (`atRevision` false: listed later, its revision compacted before its
 * shard ran or its API served outside etcd). Catalogs of formats 1 and 2
 * have neither: their resources were each listed whenever their shard ran.
 */
export const StoredCatalogV3 = Type.Object(
  {
    formatVersion: Type.Literal(3),
    writtenBy: Type.String({ minLength: 1 }),
    ...catalogBody,
    resources: Type.Array(
      Type.Object({
        ...ResourceRef.properties,
        objects: Type.Integer({ minimum: 0 }),
        atRevision: Type.Optional(Type.Boolean()),
      }),
    ),
    revision: Type.Optional(Type.String({ minLength: 1 })),
    policy: Type.Unknown(),
  },
  { additionalProperties: false },
);

/**
 * A catalog as the code uses it, whatever format it was read from: the
 * current shape, with `formatVersion` saying what was stored. Its `digest`
 * is the SHA-256 of the stored catalog's canonical JSON without the digest.
 */
export type Catalog = Omit<Static<typeof StoredCatalogV3>, 'policy' | 'formatVersion'> & {
  formatVersion: number;
  policy: BackupPolicy;
};
