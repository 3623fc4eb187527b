import type { KubeConfig } from '@kubernetes/client-node';
import { LifeboatError } from '../errors.js';
import { Layout } from '../catalog/layout.js';
import { KubeHttp, type KubeRequest } from '../kube/kube-http.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { ClusterRef } from '../messages/common.js';
import { RESTORE_LABEL } from '../restore/apply-object.js';
import { drillPrefix } from './drill-names.js';

/** A drill was about to do something its safety rules forbid: nothing was sent. */
export class DrillSafetyError extends LifeboatError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/** A drill writes only to its policy's drill cluster: checked before the first request. */
export function assertDrillCluster(target: ClusterRef, drillCluster: ClusterRef): void {
  if (Layout.clusterKey(target) !== Layout.clusterKey(drillCluster)) {
    throw new DrillSafetyError(
      `refusing to drill into ${Layout.clusterKey(target)}: the policy's drill cluster is ${Layout.clusterKey(drillCluster)}`,
    );
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Where a Kubernetes API path points: a namespace, an object in one, or a cluster-scoped object. */
interface Target {
  /** The namespace named by the path (the object itself when it is a Namespace). */
  namespace?: string;
  /** `namespaces` collection with no name: a POST creates the namespace its body names. */
  namespaceCollection: boolean;
  /** The object's own path (without subresource), when the path names one. */
  objectPath?: string;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function parsePath(path: string): Target {
  const clean = path.split('?')[0] ?? '';
  const parts = clean.split('/').filter((p) => p !== '');
  // /api/v1/... or /apis/group/version/...
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  const base = '/' + parts.slice(0, parts.length - rest.length).join('/');
  if (rest[0] === 'namespaces') {
    if (rest.length === 1) return { namespaceCollection: true };
    const namespace = decodeURIComponent(rest[1] ?? '');
    const namespacePath = `${base}/namespaces/${rest[1]}`;
    // The Namespace itself, or its status or finalize subresource.
    if (rest.length === 2 || (rest.length === 3 && NAMESPACE_SUBRESOURCES.has(rest[2] ?? ''))) {
      return { namespace, namespaceCollection: false, objectPath: namespacePath };
    }
    // A collection in the namespace (length 3), or one object in it and its subresources.
    return {
      namespace,
      namespaceCollection: false,
      ...(rest.length >= 4 ? { objectPath: `${base}/${rest.slice(0, 4).join('/')}` } : {}),
    };
  }
  return {
    namespaceCollection: false,
    ...(rest.length >= 2 ? { objectPath: `${base}/${rest.slice(0, 2).join('/')}` } : {}),
  };
}

/**
 * Namespaces a cluster-scoped object reaches into: a PV's claim (the drill
 * cluster's own claim of that name would get the drill's volume), a
 * VolumeSnapshotContent's snapshot (likewise, the snapshot's data) and the
 * service accounts a ClusterRoleBinding grants to.
 */
function namespacesReferenced(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const obj = body as {
    spec?: {
      claimRef?: { namespace?: string };
      volumeSnapshotRef?: { namespace?: string };
    };
    subjects?: { kind?: string; namespace?: string }[];
  };
  const found: string[] = [];
  if (obj.spec?.claimRef?.namespace) found.push(obj.spec.claimRef.namespace);
  if (obj.spec?.volumeSnapshotRef?.namespace) found.push(obj.spec.volumeSnapshotRef.namespace);
  for (const s of Array.isArray(obj.subjects) ? obj.subjects : []) {
    if (s.kind === 'ServiceAccount' && s.namespace) found.push(s.namespace);
  }
  return found;
}

/**
 * The drill cluster as a drill may touch it. Every write is checked before
 * it is sent: into a namespace only when the namespace has the drill's
 * prefix (a Namespace is created only under such a name), and no object
 * that refers to another namespace (a PV's claim, a binding's service
 * account) is written; a cluster-scoped
 * object is created only carrying the drill's restore label, and changed
 * only when the live one carries it; nothing is deleted that does not
 * carry the label. Reads are free. A refused write throws DrillSafetyError.
 */
export class DrillKubeHttp extends KubeHttp {
  /** Writes refused, for the report and for tests. */
  readonly refused: string[] = [];

  constructor(
    kubeConfig: KubeConfig,
    private readonly drillId: string,
    private readonly restoreId: string,
  ) {
    super(kubeConfig);
  }

  override async request<T>(method: string, path: string, req: KubeRequest = {}): Promise<T> {
    if (WRITES.has(method)) await this.check(method, path, req.body);
    return super.request<T>(method, path, req);
  }

  private refuse(method: string, path: string, why: string): never {
    const message = `drill ${this.drillId} refused ${method} ${path}: ${why}`;
    this.refused.push(message);
    throw new DrillSafetyError(message);
  }

  private ours(obj: KubeObject | undefined): boolean {
    return obj?.metadata?.labels?.[RESTORE_LABEL] === this.restoreId;
  }

  private async check(method: string, path: string, body: unknown): Promise<void> {
    const prefix = drillPrefix(this.drillId);
    const target = parsePath(path);
    if (target.namespaceCollection) {
      const name = (body as KubeObject | undefined)?.metadata?.name ?? '';
      if (method !== 'POST' || !name.startsWith(prefix))
        this.refuse(method, path, `a drill only creates namespaces named ${prefix}*`);
      return;
    }
    if (target.namespace !== undefined && !target.namespace.startsWith(prefix)) {
      this.refuse(method, path, `namespace ${target.namespace} lacks the drill prefix ${prefix}`);
    }
    // Inside a drill namespace a binding grants only there; a cluster-scoped one reaches further.
    if (target.namespace === undefined && method !== 'DELETE') {
      const outside = namespacesReferenced(body).find((ns) => !ns.startsWith(prefix));
      if (outside !== undefined) {
        this.refuse(
          method,
          path,
          `the object refers to namespace ${outside}, outside the drill (a claim or a service account there would be bound or granted)`,
        );
      }
    }
    if (method === 'POST') {
      // A create inside a drill namespace is the drill's; a cluster-scoped one must carry the label.
      if (target.namespace === undefined && !this.ours(body as KubeObject | undefined)) {
        this.refuse(
          method,
          path,
          `a cluster-scoped object is created only with ${RESTORE_LABEL}=${this.restoreId}`,
        );
      }
      return;
    }
    // Changing or deleting: the live object must be the drill's own.
    if (target.namespace !== undefined && method !== 'DELETE') return;
    if (!target.objectPath) this.refuse(method, path, 'not one object');
    // A 404 goes to the caller as it is: there is nothing to change or delete.
    const live = await super.request<KubeObject>('GET', target.objectPath);
    if (!this.ours(live)) {
      this.refuse(
        method,
        path,
        `the object does not carry ${RESTORE_LABEL}=${this.restoreId}: the drill did not create it`,
      );
    }
  }
}
