import type { V1PersistentVolume } from '@kubernetes/client-node';
import type { VolumeEntry } from '../catalog/catalog-schema.js';
import { regionOfZone } from './zones.js';

/**
 * Which Compute Engine disk, if any, holds a PersistentVolume's data. This
 * reads only the PV (plain JSON as exported, or a client object); the disk's
 * type and size come later from the Compute API itself.
 */

export const PD_CSI_DRIVER = 'pd.csi.storage.gke.io';
export const IN_TREE_GCE_PD = 'kubernetes.io/gce-pd';

/** Zone labels, newest first; the beta one is still set on PVs made before Kubernetes 1.17. */
export const ZONE_LABELS = [
  'topology.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/zone',
] as const;
export const REGION_LABELS = [
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/region',
] as const;
/** The PD CSI driver publishes `topology.gke.io/zone`; in-tree PVs use the well-known labels. */
export const CSI_ZONE_KEY = 'topology.gke.io/zone';
export const ZONE_AFFINITY_KEYS: readonly string[] = [CSI_ZONE_KEY, ...ZONE_LABELS];
/** Regional in-tree PVs list both replica zones in one label value, separated by this. */
export const ZONE_LIST_SEPARATOR = '__';

/** A Compute Engine disk as the catalog records it. */
export type DiskRef = NonNullable<VolumeEntry['disk']>;

export type VolumeSource =
  | { kind: 'gce-pd'; driver: typeof PD_CSI_DRIVER | typeof IN_TREE_GCE_PD; disk: DiskRef }
  | { kind: 'csi'; driver: string; volumeHandle: string }
  | { kind: 'none'; driver: string; reason: string };

const CSI_HANDLE = /^projects\/([^/]+)\/(zones|regions)\/([^/]+)\/disks\/([^/]+)$/;

/**
 * Maps a PV to the disk behind it. `clusterProject` is the project of the
 * cluster, used for in-tree PVs (whose spec names no project) and for CSI
 * handles of statically provisioned PVs that say `projects/UNSPECIFIED`.
 */
export function volumeSourceOf(pv: V1PersistentVolume, clusterProject: string): VolumeSource {
  const spec = pv.spec ?? {};
  if (spec.csi) {
    if (spec.csi.driver !== PD_CSI_DRIVER) {
      return { kind: 'csi', driver: spec.csi.driver, volumeHandle: spec.csi.volumeHandle };
    }
    return pdCsiSource(pv, spec.csi.volumeHandle, clusterProject);
  }
  if (spec.gcePersistentDisk)
    return inTreeSource(pv, spec.gcePersistentDisk.pdName, clusterProject);
  const type = Object.keys(spec).find((k) => VOLUME_SOURCE_FIELDS.has(k)) ?? 'unknown';
  return {
    kind: 'none',
    driver: type,
    reason: `a ${type} volume is not a Compute Engine disk and has no CSI driver to snapshot it`,
  };
}

function pdCsiSource(pv: V1PersistentVolume, handle: string, clusterProject: string): VolumeSource {
  const match = CSI_HANDLE.exec(handle);
  if (!match) {
    return {
      kind: 'none',
      driver: PD_CSI_DRIVER,
      reason: `unrecognised ${PD_CSI_DRIVER} volume handle "${handle}"`,
    };
  }
  const [, handleProject = '', scope, location = '', name = ''] = match;
  const project = handleProject === 'UNSPECIFIED' ? clusterProject : handleProject;
  if (scope === 'zones')
    return { kind: 'gce-pd', driver: PD_CSI_DRIVER, disk: { project, name, zone: location } };
  const replicaZones = affinityZones(pv);
  const disk: DiskRef = { project, name, region: location };
  if (replicaZones.length > 1) disk.replicaZones = replicaZones;
  return { kind: 'gce-pd', driver: PD_CSI_DRIVER, disk };
}

function inTreeSource(pv: V1PersistentVolume, pdName: string, project: string): VolumeSource {
  const labels = pv.metadata?.labels ?? {};
  const label = ZONE_LABELS.map((k) => labels[k]).find((v) => v !== undefined && v !== '');
  const zones = label
    ? label.split(ZONE_LIST_SEPARATOR).filter((z) => z !== '')
    : affinityZones(pv);
  if (zones.length === 0) {
    return {
      kind: 'none',
      driver: IN_TREE_GCE_PD,
      reason: 'in-tree gcePersistentDisk PV has no zone label and no zone node affinity',
    };
  }
  const [first = ''] = zones;
  if (zones.length === 1)
    return { kind: 'gce-pd', driver: IN_TREE_GCE_PD, disk: { project, name: pdName, zone: first } };
  const regionLabel = REGION_LABELS.map((k) => labels[k]).find((v) => v !== undefined && v !== '');
  return {
    kind: 'gce-pd',
    driver: IN_TREE_GCE_PD,
    disk: {
      project,
      name: pdName,
      region: regionLabel ?? regionOfZone(first),
      replicaZones: zones,
    },
  };
}

/** The zones of the first required node-selector term that constrains a zone key with `In`. */
export function affinityZones(pv: V1PersistentVolume): string[] {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const expression of term.matchExpressions ?? []) {
      if (
        ZONE_AFFINITY_KEYS.includes(expression.key) &&
        expression.operator === 'In' &&
        expression.values?.length
      ) {
        return [...expression.values];
      }
    }
  }
  return [];
}

/** PersistentVolumeSpec fields that name a volume type (for the "not snapshotted" reason). */
const VOLUME_SOURCE_FIELDS = new Set([
  'awsElasticBlockStore',
  'azureDisk',
  'azureFile',
  'cephfs',
  'cinder',
  'fc',
  'flexVolume',
  'flocker',
  'glusterfs',
  'hostPath',
  'iscsi',
  'local',
  'nfs',
  'photonPersistentDisk',
  'portworxVolume',
  'quobyte',
  'rbd',
  'scaleIO',
  'storageos',
  'vsphereVolume',
]);
