/**
 * The JSON the GKE Container API v1 answers with (proto3 JSON mapping of
 * google.container.v1: camelCase fields, int64 as strings, enums by name
 * or, when the client asks for `$alt=json;enum-encoding=int`, by number).
 */

import type { JsonObject } from '../google-json.js';

/** google.container.v1.Cluster.Status, with the proto's numbers. */
export const ClusterStatuses = {
  STATUS_UNSPECIFIED: 0,
  PROVISIONING: 1,
  RUNNING: 2,
  RECONCILING: 3,
  STOPPING: 4,
  ERROR: 5,
  DEGRADED: 6,
} as const;
export type ClusterStatus = keyof typeof ClusterStatuses;

/** google.container.v1.NodePool.Status. */
const NodePoolStatuses: Record<string, number> = {
  STATUS_UNSPECIFIED: 0,
  PROVISIONING: 1,
  RUNNING: 2,
  RUNNING_WITH_ERROR: 3,
  RECONCILING: 4,
  STOPPING: 5,
  ERROR: 6,
};
/** google.container.v1.ReleaseChannel.Channel. */
const Channels: Record<string, number> = {
  UNSPECIFIED: 0,
  RAPID: 1,
  REGULAR: 2,
  STABLE: 3,
  EXTENDED: 4,
};
/** google.container.v1.DatabaseEncryption.State. */
const EncryptionStates: Record<string, number> = { UNKNOWN: 0, ENCRYPTED: 1, DECRYPTED: 2 };
/** google.container.v1.Operation.Status and .Type. */
const OperationStatuses: Record<string, number> = {
  STATUS_UNSPECIFIED: 0,
  PENDING: 1,
  RUNNING: 2,
  DONE: 3,
  ABORTING: 4,
};
const OperationTypes: Record<string, number> = {
  TYPE_UNSPECIFIED: 0,
  CREATE_CLUSTER: 1,
  DELETE_CLUSTER: 2,
};

/** What the stand-in keeps of a cluster; the rest of the Cluster message is derived from it. */
export interface ClusterRecord {
  project: string;
  /** A zone (us-central1-a: zonal cluster) or a region (us-central1: regional). */
  location: string;
  name: string;
  status: ClusterStatus;
  statusMessage?: string;
  resourceLabels: Record<string, string>;
  /** Public endpoint: an IP on Google Cloud, 127.0.0.1:PORT for a local API server. */
  endpoint: string;
  privateEndpoint?: string;
  dnsEndpoint?: string;
  /** masterAuth.clusterCaCertificate: base64 of a PEM bundle. */
  caCertificate: string;
  currentMasterVersion: string;
  id: string;
  createTime: string;
  /** The zones its nodes run in (Cluster.locations); default: its zone, or zones a-c of its region. */
  locations?: string[];
}

const API = 'https://container.googleapis.com/v1';
const isZone = (location: string): boolean => /-[a-z]$/.test(location);
const regionOf = (location: string): string =>
  isZone(location) ? location.slice(0, location.lastIndexOf('-')) : location;

/** A google.container.v1.Cluster as the API returns it, with the fields a real one carries. */
export function clusterJson(c: ClusterRecord): JsonObject {
  const path = `projects/${c.project}/locations/${c.location}/clusters/${c.name}`;
  const region = regionOf(c.location);
  const nodeLocations = c.locations
    ? [...c.locations]
    : isZone(c.location)
      ? [c.location]
      : [`${region}-a`, `${region}-b`, `${region}-c`];
  const nodeVersion = c.currentMasterVersion;
  const cluster: JsonObject = {
    name: c.name,
    nodePools: [
      {
        name: 'default-pool',
        config: {
          machineType: 'e2-standard-4',
          diskSizeGb: 100,
          oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
          serviceAccount: 'default',
          metadata: { 'disable-legacy-endpoints': 'true' },
          imageType: 'COS_CONTAINERD',
          diskType: 'pd-balanced',
          shieldedInstanceConfig: { enableIntegrityMonitoring: true },
        },
        initialNodeCount: 1,
        autoscaling: { enabled: true, minNodeCount: 1, maxNodeCount: 5 },
        management: { autoUpgrade: true, autoRepair: true },
        maxPodsConstraint: { maxPodsPerNode: '110' },
        podIpv4CidrSize: 24,
        locations: nodeLocations,
        selfLink: `${API}/${path}/nodePools/default-pool`,
        version: nodeVersion,
        instanceGroupUrls: nodeLocations.map(
          (z) =>
            `https://www.googleapis.com/compute/v1/projects/${c.project}/zones/${z}/instanceGroupManagers/gke-${c.name}-default-pool-${c.id.slice(0, 8)}-grp`,
        ),
        status: c.status === 'RUNNING' ? 'RUNNING' : 'PROVISIONING',
        upgradeSettings: { maxSurge: 1, strategy: 'SURGE' },
        etag: c.id.slice(8, 24),
      },
    ],
    locations: nodeLocations,
    masterAuth: { clusterCaCertificate: c.caCertificate },
    loggingService: 'logging.googleapis.com/kubernetes',
    monitoringService: 'monitoring.googleapis.com/kubernetes',
    network: 'default',
    clusterIpv4Cidr: '10.8.0.0/14',
    addonsConfig: {
      httpLoadBalancing: {},
      horizontalPodAutoscaling: {},
      networkPolicyConfig: { disabled: true },
      gcePersistentDiskCsiDriverConfig: { enabled: true },
    },
    subnetwork: 'default',
    resourceLabels: { ...c.resourceLabels },
    labelFingerprint: c.id.slice(0, 8),
    legacyAbac: {},
    ipAllocationPolicy: {
      useIpAliases: true,
      clusterIpv4Cidr: '10.8.0.0/14',
      servicesIpv4Cidr: '34.118.224.0/20',
      clusterIpv4CidrBlock: '10.8.0.0/14',
      servicesIpv4CidrBlock: '34.118.224.0/20',
    },
    masterAuthorizedNetworksConfig: {},
    maintenancePolicy: { resourceVersion: 'e3b0c442' },
    networkConfig: {
      network: `projects/${c.project}/global/networks/default`,
      subnetwork: `projects/${c.project}/regions/${region}/subnetworks/default`,
      defaultSnatStatus: {},
    },
    defaultMaxPodsConstraint: { maxPodsPerNode: '110' },
    authenticatorGroupsConfig: {},
    databaseEncryption: { state: 'DECRYPTED' },
    shieldedNodes: { enabled: true },
    releaseChannel: { channel: 'REGULAR' },
    workloadIdentityConfig: { workloadPool: `${c.project}.svc.id.goog` },
    selfLink: `${API}/${path}`,
    zone: c.location,
    endpoint: c.endpoint,
    initialClusterVersion: c.currentMasterVersion,
    currentMasterVersion: c.currentMasterVersion,
    currentNodeVersion: nodeVersion,
    createTime: c.createTime,
    status: c.status,
    servicesIpv4Cidr: '34.118.224.0/20',
    currentNodeCount: nodeLocations.length,
    location: c.location,
    id: c.id,
    etag: c.id.slice(16, 24),
  };
  if (c.statusMessage) cluster['statusMessage'] = c.statusMessage;
  if (c.privateEndpoint) {
    cluster['privateClusterConfig'] = {
      privateEndpoint: c.privateEndpoint,
      publicEndpoint: c.endpoint,
    };
  }
  const ipEndpoints: JsonObject = {
    enabled: true,
    enablePublicEndpoint: true,
    publicEndpoint: c.endpoint,
  };
  if (c.privateEndpoint) ipEndpoints['privateEndpoint'] = c.privateEndpoint;
  cluster['controlPlaneEndpointsConfig'] = {
    ...(c.dnsEndpoint
      ? { dnsEndpointConfig: { endpoint: c.dnsEndpoint, allowExternalTraffic: true } }
      : {}),
    ipEndpointsConfig: ipEndpoints,
  };
  return cluster;
}

/** Rewrites a Cluster's enum fields as numbers, as the API does for `enum-encoding=int`. */
export function clusterEnumsAsNumbers(cluster: JsonObject): JsonObject {
  const out: JsonObject = {
    ...cluster,
    status: ClusterStatuses[cluster['status'] as ClusterStatus],
  };
  const channel = cluster['releaseChannel'] as JsonObject;
  out['releaseChannel'] = { ...channel, channel: Channels[channel['channel'] as string] ?? 0 };
  const encryption = cluster['databaseEncryption'] as JsonObject;
  out['databaseEncryption'] = {
    ...encryption,
    state: EncryptionStates[encryption['state'] as string] ?? 0,
  };
  out['nodePools'] = (cluster['nodePools'] as JsonObject[]).map((pool) => ({
    ...pool,
    status: NodePoolStatuses[pool['status'] as string] ?? 0,
    upgradeSettings: { maxSurge: 1, strategy: 3 /* NodePoolUpdateStrategy.SURGE */ },
  }));
  return out;
}

export interface OperationRecord {
  name: string;
  project: string;
  location: string;
  operationType: 'CREATE_CLUSTER' | 'DELETE_CLUSTER';
  status: 'PENDING' | 'RUNNING' | 'DONE';
  cluster: string;
  startTime: string;
  endTime?: string;
}

/** A google.container.v1.Operation. */
export function operationJson(op: OperationRecord, numericEnums: boolean): JsonObject {
  const json: JsonObject = {
    name: op.name,
    zone: op.location,
    operationType: numericEnums ? (OperationTypes[op.operationType] ?? 0) : op.operationType,
    status: numericEnums ? (OperationStatuses[op.status] ?? 0) : op.status,
    selfLink: `${API}/projects/${op.project}/locations/${op.location}/operations/${op.name}`,
    targetLink: `${API}/projects/${op.project}/locations/${op.location}/clusters/${op.cluster}`,
    location: op.location,
    startTime: op.startTime,
  };
  if (op.endTime) json['endTime'] = op.endTime;
  return json;
}
