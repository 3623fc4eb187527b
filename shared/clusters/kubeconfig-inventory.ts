import { KubeConfig, type Context } from '@kubernetes/client-node';
import { mapLimit } from '../concurrency.js';
import { errorMessage, NotFoundError, PermanentError } from '../errors.js';
import type { BackupPolicy, ClusterRef } from '../messages/common.js';
import { probeApiServer } from './api-server-probe.js';
import type { ClusterInventory, ClusterListing, DiscoveredCluster } from './cluster-inventory.js';
import {
  clusterSelected,
  DEFAULT_READY_STATUSES,
  isValidClusterName,
  selectClusters,
} from './cluster-selection.js';

/** The project and location of every kubeconfig context. */
export const LOCAL = 'local';

export interface KubeconfigInventoryOptions {
  /** A kubeconfig file's path, or one already loaded. */
  kubeconfig: string | KubeConfig;
  /** How long an API server has to answer /readyz before it counts as UNREACHABLE. */
  probeTimeoutMs?: number;
  /** Statuses a selected context must have to be backed up; default ['RUNNING']. */
  readyStatuses?: readonly string[];
}

/**
 * ClusterInventory for local mode: every context of a kubeconfig is a
 * cluster `{ project: 'local', location: 'local', name: <context> }`, and
 * its status is what its API server says when asked (see probeApiServer).
 * A policy selects contexts as it selects GKE clusters: `projects` must
 * include 'local', `locations` '-' or 'local'; contexts have no labels, so
 * a policy that requires labels selects none.
 */
export class KubeconfigInventory implements ClusterInventory {
  private readonly kc: KubeConfig;
  private readonly probeTimeoutMs: number;
  private readonly readyStatuses: readonly string[];
  private readonly source: string;

  constructor(options: KubeconfigInventoryOptions) {
    this.probeTimeoutMs = options.probeTimeoutMs ?? 3000;
    this.readyStatuses = options.readyStatuses ?? DEFAULT_READY_STATUSES;
    if (typeof options.kubeconfig === 'string') {
      this.source = `kubeconfig ${options.kubeconfig}`;
      this.kc = new KubeConfig();
      try {
        this.kc.loadFromFile(options.kubeconfig);
      } catch (error) {
        throw new PermanentError(`Unable to load ${this.source}: ${errorMessage(error)}`, error);
      }
    } else {
      this.source = 'kubeconfig';
      this.kc = options.kubeconfig;
    }
  }

  async list(policy: BackupPolicy): Promise<ClusterListing> {
    const candidates = this.kc
      .getContexts()
      .filter((ctx) => clusterSelected(policy, { ref: refOf(ctx.name), labels: {} }));
    const invalid = candidates.filter((ctx) => !isValidClusterName(ctx.name));
    if (invalid.length > 0) {
      const names = invalid.map((ctx) => `"${ctx.name}"`).join(', ');
      throw new PermanentError(
        `${this.source}: context ${names} cannot name a cluster: a context name must be a ` +
          'lowercase DNS label (a-z, 0-9, "-", at most 63 characters); rename it, or leave it ' +
          `out of the policy's clusterNames`,
      );
    }
    const found = await mapLimit(candidates, 16, (ctx) => this.probe(ctx));
    return { ...selectClusters(policy, found, this.readyStatuses), unlisted: [] };
  }

  async get(ref: ClusterRef): Promise<DiscoveredCluster | undefined> {
    const ctx = this.context(ref);
    return ctx && this.probe(ctx);
  }

  async connect(ref: ClusterRef): Promise<KubeConfig> {
    const ctx = this.context(ref);
    if (!ctx) throw new NotFoundError(`${this.source} has no context "${ref.name}"`);
    return this.kubeConfigOf(ctx);
  }

  async close(): Promise<void> {
    // Nothing held open: every probe uses its own request.
  }

  /** The context a ref names, if it is a local ref and the kubeconfig has it. */
  private context(ref: ClusterRef): Context | undefined {
    if (ref.project !== LOCAL || ref.location !== LOCAL) return undefined;
    return this.kc.getContextObject(ref.name) ?? undefined;
  }

  private async probe(ctx: Context): Promise<DiscoveredCluster> {
    const kc = this.kubeConfigOf(ctx);
    const probe = await probeApiServer(kc, this.probeTimeoutMs);
    const server = kc.getCurrentCluster()?.server;
    return {
      ref: refOf(ctx.name),
      labels: {},
      ...probe,
      ...(server ? { endpoint: server } : {}),
    };
  }

  /** A KubeConfig of the one context, its cluster and its user, current. */
  private kubeConfigOf(ctx: Context): KubeConfig {
    const cluster = this.kc.getCluster(ctx.cluster);
    if (!cluster) {
      throw new PermanentError(
        `${this.source}: context "${ctx.name}" names cluster "${ctx.cluster}", which it does not define`,
      );
    }
    const user = this.kc.getUser(ctx.user);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: user ? [user] : [],
      contexts: [ctx],
      currentContext: ctx.name,
    });
    return kc;
  }
}

const refOf = (context: string): ClusterRef => ({ project: LOCAL, location: LOCAL, name: context });
