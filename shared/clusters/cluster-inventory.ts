import type { KubeConfig } from '@kubernetes/client-node';
import type { BackupPolicy, ClusterRef } from '../messages/common.js';

/** A cluster as an inventory sees it: identity, state, labels, how to reach it. */
export interface DiscoveredCluster {
  ref: ClusterRef;
  /** GKE's Cluster.Status name ('RUNNING', 'PROVISIONING', ...), or a local probe's verdict. */
  status: string;
  /** Why the cluster is in that status, when the source says (GKE statusMessage, a probe error). */
  statusMessage?: string;
  /** GKE resource labels; empty for kubeconfig contexts. */
  labels: Record<string, string>;
  /** Where the API server answers: a GKE endpoint (host, no scheme) or a kubeconfig server URL. */
  endpoint?: string;
  /** The control plane's version, e.g. '1.31.4-gke.1256000' or 'v1.31.4'. */
  kubernetesVersion?: string;
  /** The zones its nodes run in (GKE Cluster.locations); unknown for kubeconfig contexts. */
  zones?: string[];
  /** When the cluster was created (GKE Cluster.createTime, RFC 3339); unknown for kubeconfig contexts. */
  createTime?: string;
}

/** A cluster the policy selected but that will not be backed up now, and why. */
export interface SkippedCluster {
  cluster: ClusterRef;
  reason: string;
}

/**
 * A place the listing could not see into (a GKE zone reported in
 * `missingZones`, a project the caller may not list): clusters there may
 * exist and match. Recorded so that a gap is never silent.
 */
export interface UnlistedLocation {
  project: string;
  location: string;
  reason: string;
}

export interface ClusterListing {
  /** Selected and ready to be backed up, in a stable order (project, location, name). */
  clusters: DiscoveredCluster[];
  /** Selected by the policy but not ready (status other than RUNNING, unreachable). */
  skipped: SkippedCluster[];
  /** Where clusters could not be listed; empty when the listing is complete. */
  unlisted: UnlistedLocation[];
}

/**
 * Where clusters come from: the GKE Container API, or the contexts of a
 * kubeconfig in local mode. Both select clusters the same way (see
 * cluster-selection.ts) so a policy means the same thing everywhere.
 */
export interface ClusterInventory {
  /**
   * The clusters a policy selects: in one of `policy.projects`, in one of
   * `policy.locations` ('-' for every location, globs allowed), named by one
   * of the `policy.clusterNames` globs, carrying every `policy.clusterLabels`
   * label. Selected clusters that are not ready are returned in `skipped`
   * with the reason, never dropped silently.
   *
   * Throws a retryable TransientError when the source is unavailable (the
   * whole tick is worth redelivering), a PermanentError when the request can
   * never succeed (an invalid kubeconfig context name, for one).
   */
  list(policy: BackupPolicy): Promise<ClusterListing>;

  /** One cluster, whatever its status; undefined when it does not exist. */
  get(cluster: ClusterRef): Promise<DiscoveredCluster | undefined>;

  /**
   * A KubeConfig whose current context reaches the cluster's API server,
   * for @kubernetes/client-node and KubeHttp. Throws NotFoundError for an
   * unknown cluster and TransientError when it cannot be reached yet (no
   * endpoint while PROVISIONING, no access token).
   */
  connect(cluster: ClusterRef): Promise<KubeConfig>;

  /** Releases clients and sockets. */
  close(): Promise<void>;
}
