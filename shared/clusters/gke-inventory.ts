import { ClusterManagerClient, protos } from '@google-cloud/container';
import type { KubeConfig } from '@kubernetes/client-node';
import { mapLimit } from '../concurrency.js';
import { NotFoundError, TransientError } from '../errors.js';
import type { BackupPolicy, ClusterRef } from '../messages/common.js';
import type {
  ClusterInventory,
  ClusterListing,
  DiscoveredCluster,
  UnlistedLocation,
} from './cluster-inventory.js';
import { DEFAULT_READY_STATUSES, listingScopes, selectClusters } from './cluster-selection.js';
import { containerClientOptions, type ContainerClientOptions } from './container-client-options.js';
import { containerError } from './gke-errors.js';
import { adcAccessToken, gkeKubeConfig, type AccessTokenProvider } from './gke-kubeconfig.js';

type Cluster = protos.google.container.v1.ICluster;
const ClusterStatus = protos.google.container.v1.Cluster.Status;

/** Which of a GKE cluster's control-plane endpoints to connect through. */
export const GkeEndpointKinds = ['public', 'private', 'dns'] as const;
export type GkeEndpointKind = (typeof GkeEndpointKinds)[number];

export interface GkeInventoryOptions {
  /** Endpoint, transport and credentials of the Container API (see containerClientOptions). */
  client?: ContainerClientOptions;
  /** The access token sent to the clusters' API servers; default: Application Default Credentials. */
  accessToken?: AccessTokenProvider;
  /** Statuses a selected cluster must have to be backed up; default ['RUNNING']. */
  readyStatuses?: readonly string[];
  /**
   * 'public' (default): Cluster.endpoint; 'private': the private IP endpoint
   * (a function on a VPC connector); 'dns': the DNS-based endpoint, whose
   * certificate is publicly trusted, so no cluster CA is used.
   */
  endpoint?: GkeEndpointKind;
  /**
   * Attempts in all (the first included) of a call that fails with
   * UNAVAILABLE (503) or DEADLINE_EXCEEDED, inside google-gax; default 5.
   * Bounded by count rather than the library's 10-minute total timeout,
   * which would outlast a function invocation.
   */
  maxAttempts?: number;
  /** Listings in flight at once when a policy spans several projects or locations. */
  concurrency?: number;
  /**
   * Ask only for the fields Lifeboat reads (the X-Goog-FieldMask system
   * parameter of Google APIs); default true. A full Cluster runs to many
   * kilobytes of JSON, mostly node pools, and the client decodes every
   * field; masked, it is a few hundred bytes, which keeps a listing of
   * thousands of clusters fast. Should the API refuse the mask (400), the
   * inventory turns it off and asks again for whole resources.
   */
  fieldMask?: boolean;
}

/** The Cluster fields `discovered` and `connect` read. */
const CLUSTER_FIELDS = [
  'name',
  'location',
  'zone',
  'status',
  'statusMessage',
  'resourceLabels',
  'currentMasterVersion',
  'createTime',
  'locations',
  'endpoint',
  'privateClusterConfig.privateEndpoint',
  'controlPlaneEndpointsConfig.ipEndpointsConfig.privateEndpoint',
  'controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint',
];
/** A listing leaves the CA out: only connect needs it, and it is the bulk of what remains. */
export const LIST_FIELD_MASK = [...CLUSTER_FIELDS.map((f) => `clusters.${f}`), 'missingZones'].join(
  ',',
);
const GET_MASK = [...CLUSTER_FIELDS, 'masterAuth.clusterCaCertificate'].join(',');

interface CallOptions {
  timeout: number;
  maxRetries: number;
  otherArgs?: { headers: Record<string, string> };
}

/** The longest one Container API call may take, so a hung call cannot eat a function's 9 minutes. */
const CALL_TIMEOUT_MS = 30_000;

/**
 * ClusterInventory over the GKE Container API v1 through the real
 * `@google-cloud/container` ClusterManagerClient (REST transport).
 *
 * One ListClusters call returns every cluster of a location (the API has no
 * paging; `locations/-` covers all of a project), so a policy costs one call
 * per project, or one per named location; selection happens here, on the
 * decoded clusters. A permanent failure of one project (403, 404) is
 * recorded in `unlisted` and the other projects are still listed; a
 * transient one, once google-gax has retried it, fails the whole listing
 * with a TransientError so the tick is redelivered (job ids are
 * deterministic, so the redelivery duplicates nothing).
 */
export class GkeInventory implements ClusterInventory {
  private readonly client: ClusterManagerClient;
  private readonly accessToken: AccessTokenProvider;
  private readonly readyStatuses: readonly string[];
  private readonly endpointKind: GkeEndpointKind;
  private readonly callOptions: { timeout: number; maxRetries: number };
  private readonly concurrency: number;
  /** Cleared if the API ever refuses a field mask: from then on, whole resources. */
  private useFieldMask: boolean;

  constructor(options: GkeInventoryOptions = {}) {
    // The client keeps (and mutates) its options object, so it gets a copy.
    this.client = new ClusterManagerClient({ ...(options.client ?? containerClientOptions()) });
    this.accessToken = options.accessToken ?? adcAccessToken();
    this.readyStatuses = options.readyStatuses ?? DEFAULT_READY_STATUSES;
    this.endpointKind = options.endpoint ?? 'public';
    // google-gax's `maxRetries` counts attempts, the first one included (normalCalls/retries.js).
    this.callOptions = { timeout: CALL_TIMEOUT_MS, maxRetries: options.maxAttempts ?? 5 };
    this.concurrency = options.concurrency ?? 8;
    this.useFieldMask = options.fieldMask ?? true;
  }

  async list(policy: BackupPolicy): Promise<ClusterListing> {
    const found: DiscoveredCluster[] = [];
    const unlisted: UnlistedLocation[] = [];
    await mapLimit(listingScopes(policy), this.concurrency, async ({ project, location }) => {
      const parent = `projects/${project}/locations/${location}`;
      try {
        const [response] = await this.call(LIST_FIELD_MASK, (o) =>
          this.client.listClusters({ parent }, o),
        );
        for (const cluster of response.clusters ?? [])
          found.push(this.discovered(project, cluster));
        for (const zone of response.missingZones ?? []) {
          unlisted.push({
            project,
            location: zone,
            reason: `the Container API reported zone ${zone} unavailable while listing ${parent}`,
          });
        }
      } catch (error) {
        const failure = containerError(`list clusters in ${parent}`, error);
        if (failure.retryable) throw failure;
        unlisted.push({ project, location, reason: failure.message });
      }
    });
    return { ...selectClusters(policy, found, this.readyStatuses), unlisted };
  }

  async get(ref: ClusterRef): Promise<DiscoveredCluster | undefined> {
    const cluster = await this.fetch(ref);
    return cluster && this.discovered(ref.project, cluster);
  }

  async connect(ref: ClusterRef): Promise<KubeConfig> {
    const cluster = await this.fetch(ref);
    if (!cluster) throw new NotFoundError(`Cluster ${clusterPath(ref)} does not exist`);
    const found = this.discovered(ref.project, cluster);
    if (!found.endpoint) {
      throw new TransientError(
        `Cluster ${clusterPath(ref)} has no ${this.endpointKind} endpoint (status ${found.status})`,
      );
    }
    const caData =
      this.endpointKind === 'dns'
        ? undefined
        : cluster.masterAuth?.clusterCaCertificate || undefined;
    return gkeKubeConfig(ref, found.endpoint, caData, await this.accessToken());
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** The cluster, or undefined on 404; other failures classified (see containerError). */
  private async fetch(ref: ClusterRef): Promise<Cluster | undefined> {
    try {
      const [cluster] = await this.call(GET_MASK, (o) =>
        this.client.getCluster({ name: clusterPath(ref) }, o),
      );
      return cluster;
    } catch (error) {
      const failure = containerError(`get cluster ${clusterPath(ref)}`, error);
      if (failure instanceof NotFoundError) return undefined;
      throw failure;
    }
  }

  /**
   * One API call, with the field mask while the API accepts it. A 400 that
   * names the mask (an API that does not serve some path of it) turns masks
   * off for good and the call is made again whole: slower, never wrong.
   */
  private async call<T>(mask: string, send: (options: CallOptions) => Promise<T>): Promise<T> {
    if (!this.useFieldMask) return send(this.callOptions);
    try {
      return await send({
        ...this.callOptions,
        otherArgs: { headers: { 'X-Goog-FieldMask': mask } },
      });
    } catch (error) {
      const e = error as { httpStatusCode?: unknown; message?: unknown };
      if (e.httpStatusCode !== 400 || !/field ?mask/i.test(String(e.message))) throw error;
      this.useFieldMask = false;
      return send(this.callOptions);
    }
  }

  private discovered(project: string, cluster: Cluster): DiscoveredCluster {
    const endpoint = endpointOf(cluster, this.endpointKind);
    return {
      ref: { project, location: cluster.location || cluster.zone || '', name: cluster.name ?? '' },
      status: statusName(cluster.status),
      ...(cluster.statusMessage ? { statusMessage: cluster.statusMessage } : {}),
      labels: { ...(cluster.resourceLabels ?? {}) },
      ...(endpoint ? { endpoint } : {}),
      ...(cluster.currentMasterVersion ? { kubernetesVersion: cluster.currentMasterVersion } : {}),
      ...(cluster.createTime ? { createTime: cluster.createTime } : {}),
      ...(cluster.locations?.length ? { zones: [...cluster.locations] } : {}),
    };
  }
}

export const clusterPath = (ref: ClusterRef): string =>
  `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;

/** The client decodes enums as names; a number (an unknown or raw value) is mapped back. */
function statusName(status: Cluster['status']): string {
  if (typeof status === 'string') return status;
  if (typeof status === 'number') return ClusterStatus[status] ?? `STATUS_${status}`;
  return 'STATUS_UNSPECIFIED';
}

function endpointOf(cluster: Cluster, kind: GkeEndpointKind): string | undefined {
  const endpoints = cluster.controlPlaneEndpointsConfig;
  switch (kind) {
    case 'public':
      return cluster.endpoint || undefined;
    case 'private':
      return (
        endpoints?.ipEndpointsConfig?.privateEndpoint ||
        cluster.privateClusterConfig?.privateEndpoint ||
        undefined
      );
    case 'dns':
      return endpoints?.dnsEndpointConfig?.endpoint || undefined;
  }
}
