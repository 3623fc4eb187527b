import type {
  V1NodeSelectorTerm,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import { PermanentError } from '../errors.js';
import {
  CSI_ZONE_KEY,
  type DiskRef,
  REGION_LABELS,
  ZONE_AFFINITY_KEYS,
  ZONE_LABELS,
  ZONE_LIST_SEPARATOR,
} from './pv-disk.js';

/** Node-affinity keys that say where the old disk was: all are replaced by one zone constraint. */
const LOCATION_KEYS: readonly string[] = [...ZONE_AFFINITY_KEYS, ...REGION_LABELS];

/**
 * The reverse of pv-disk: point a backed-up PV at a restored disk, and make
 * the PV and its claim a pre-bound pair. A pre-bound pair (PV claimRef names
 * the claim, the claim's volumeName names the PV) binds to each other and
 * nothing else, which is what a restore wants.
 */

/** Who the restored PV is for: the PVC's namespace after namespace mapping, and its name. */
export interface ClaimRef {
  namespace: string;
  name: string;
}

/** Fields of a stored object that belong to the cluster it came from, never to the restore. */
function dropServerFields<T extends { metadata?: object; status?: unknown }>(object: T): T {
  const copy = structuredClone(object) as T & {
    metadata?: Record<string, unknown>;
    status?: unknown;
  };
  for (const key of [
    'uid',
    'resourceVersion',
    'creationTimestamp',
    'managedFields',
    'generation',
    'selfLink',
  ]) {
    delete copy.metadata?.[key];
  }
  delete copy.status;
  // The CSI attacher's finalizer belongs to an attachment in the source cluster; the
  // target's attacher adds its own when it attaches the disk.
  const finalizers = (copy.metadata?.['finalizers'] as string[] | undefined)?.filter(
    (f) => !f.startsWith('external-attacher/'),
  );
  if (copy.metadata && finalizers) copy.metadata['finalizers'] = finalizers;
  return copy;
}

/**
 * Rewrites a PV (sanitised JSON) to use `disk`: the CSI volume handle or the
 * in-tree pdName, the zone and region labels, and the node affinity, so pods
 * are scheduled where the new disk lives. The claimRef keeps only what a new
 * cluster can match (no uid, no resourceVersion) and names `claim`.
 */
export function rewritePersistentVolume(
  pv: V1PersistentVolume,
  disk: DiskRef,
  claim?: ClaimRef,
): V1PersistentVolume {
  const out = dropServerFields(pv);
  const spec = out.spec;
  if (!spec) throw new PermanentError(`PV ${pv.metadata?.name ?? '(unnamed)'} has no spec`);
  // A new disk gets a PV of its own name: restoring twice into one cluster never clashes.
  out.metadata = { ...out.metadata, name: disk.name };
  const zones = disk.zone ? [disk.zone] : (disk.replicaZones ?? []);
  if (zones.length === 0)
    throw new PermanentError(`restored disk ${disk.name} has no zone or replica zones`);
  if (spec.csi) {
    spec.csi.volumeHandle = disk.zone
      ? `projects/${disk.project}/zones/${disk.zone}/disks/${disk.name}`
      : `projects/${disk.project}/regions/${disk.region ?? ''}/disks/${disk.name}`;
    setZoneAffinity(out, CSI_ZONE_KEY, zones);
  } else if (spec.gcePersistentDisk) {
    // An in-tree PV names no project: the disk must be in the cluster's project.
    spec.gcePersistentDisk.pdName = disk.name;
    setZoneLabels(out, zones, disk.region);
    setZoneAffinity(out, ZONE_LABELS[0], zones);
  } else {
    throw new PermanentError(
      `PV ${pv.metadata?.name ?? '(unnamed)'} is neither a CSI nor an in-tree disk volume`,
    );
  }
  return withClaimRef(out, claim);
}

/**
 * The PV as it was (same handle), for the reuse-volume-handle policy. Its
 * reclaim policy becomes Retain: the disk still belongs to the source, and
 * deleting the restored claim must never delete it.
 */
export function reusePersistentVolume(
  pv: V1PersistentVolume,
  claim?: ClaimRef,
): V1PersistentVolume {
  const out = withClaimRef(dropServerFields(pv), claim);
  if (out.spec) out.spec.persistentVolumeReclaimPolicy = 'Retain';
  return out;
}

function withClaimRef(pv: V1PersistentVolume, claim: ClaimRef | undefined): V1PersistentVolume {
  const spec = pv.spec ?? {};
  pv.spec = spec;
  if (claim) {
    spec.claimRef = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      namespace: claim.namespace,
      name: claim.name,
    };
  } else if (spec.claimRef) {
    delete spec.claimRef.uid;
    delete spec.claimRef.resourceVersion;
  }
  // The binder sets this when it chose the pair itself; a pre-bound pair was chosen by us.
  delete pv.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'];
  return pv;
}

function setZoneLabels(pv: V1PersistentVolume, zones: string[], region: string | undefined): void {
  const metadata = pv.metadata ?? {};
  pv.metadata = metadata;
  const labels = { ...(metadata.labels ?? {}) };
  const zoneValue = zones.join(ZONE_LIST_SEPARATOR);
  labels[ZONE_LABELS[0]] = zoneValue;
  if (labels[ZONE_LABELS[1]] !== undefined) labels[ZONE_LABELS[1]] = zoneValue;
  const regionValue = region ?? regionFromZones(zones);
  labels[REGION_LABELS[0]] = regionValue;
  if (labels[REGION_LABELS[1]] !== undefined) labels[REGION_LABELS[1]] = regionValue;
  metadata.labels = labels;
}

function regionFromZones(zones: string[]): string {
  const zone = zones[0] ?? '';
  return zone.slice(0, zone.lastIndexOf('-'));
}

/**
 * Replaces every zone or region constraint of the required node affinity
 * with one zone constraint on `key` (the zone implies the region). Other constraints (a node pool, an architecture) are kept: they
 * describe the workload, not where the old disk was.
 */
function setZoneAffinity(pv: V1PersistentVolume, key: string, zones: string[]): void {
  const spec = pv.spec ?? {};
  pv.spec = spec;
  const existing: V1NodeSelectorTerm[] = spec.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  const terms = (existing.length > 0 ? existing : [{}]).map((term) => ({
    ...term,
    matchExpressions: [
      ...(term.matchExpressions ?? []).filter((e) => !LOCATION_KEYS.includes(e.key)),
      { key, operator: 'In', values: [...zones] },
    ],
  }));
  spec.nodeAffinity = { required: { nodeSelectorTerms: terms } };
}

/**
 * Rewrites a PVC for restore. With `volumeName` the claim is pre-bound to that
 * PV; without it the claim asks for a new volume (dynamic provisioning, or
 * the CSI restore through `dataSource`). Annotations the binder and scheduler
 * wrote in the source cluster are dropped: they describe a binding that does
 * not exist in the target.
 */
export function rewritePersistentVolumeClaim(
  pvc: V1PersistentVolumeClaim,
  target: {
    namespace?: string;
    volumeName?: string;
    dataSource?: { apiGroup: string; kind: string; name: string };
  },
): V1PersistentVolumeClaim {
  const out = dropServerFields(pvc);
  const metadata = out.metadata ?? {};
  out.metadata = metadata;
  if (target.namespace) metadata.namespace = target.namespace;
  for (const key of [
    'pv.kubernetes.io/bind-completed',
    'pv.kubernetes.io/bound-by-controller',
    'volume.kubernetes.io/selected-node',
  ]) {
    delete metadata.annotations?.[key];
  }
  const spec = out.spec ?? {};
  out.spec = spec;
  if (target.volumeName) spec.volumeName = target.volumeName;
  else delete spec.volumeName;
  delete spec.dataSourceRef;
  if (target.dataSource) spec.dataSource = { ...target.dataSource };
  else delete spec.dataSource;
  return out;
}
