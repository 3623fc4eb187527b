import { createHash } from 'node:crypto';
import { latestGoodCatalog } from '../catalog/catalog-io.js';
import { Layout } from '../catalog/layout.js';
import type { ClusterInventory } from '../clusters/cluster-inventory.js';
import type { DeployedConfiguration } from '../config/deployment.js';
import type { Sealer } from '../crypto/sealer.js';
import type { DiskSnapshotter } from '../disks/disk-snapshotter.js';
import {
  API_VERSION,
  type AuditLogEntry,
  type ClusterRef,
  type ClusterResponse,
  type RestoreRequest,
} from '../messages/index.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Deadline } from '../time/deadline.js';
import { lastChanceBackup } from './last-chance.js';
import { lockBackup } from './locks.js';

export const DELETE_CLUSTER = 'google.container.v1.ClusterManager.DeleteCluster';
export const CREATE_CLUSTER = 'google.container.v1.ClusterManager.CreateCluster';

/** DeleteCluster or CreateCluster, whichever API version (v1, v1beta1) the caller used. */
const isMethod = (method: string, v1: string): boolean =>
  method === v1 || method === v1.replace('.v1.', '.v1beta1.');

export interface ClusterEventResult {
  response: ClusterResponse;
  restore?: RestoreRequest;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Statuses in which the Container API confirms a deletion: the cluster is
 * being torn down or is broken. A cluster the API no longer knows (404) is
 * gone, which confirms it too.
 */
export const DELETION_CONFIRMING_STATUSES: readonly string[] = ['STOPPING', 'ERROR'];

function clusterOf(entry: AuditLogEntry): ClusterRef {
  const l = entry.resource.labels;
  return { project: l.project_id, location: l.location, name: l.cluster_name };
}

/**
 * What Lifeboat does about a cluster's audit entry. On deletion (its first
 * entry): a last-chance backup with fresh snapshots of the disks, a lock on
 * the latest good backups, and a restore into the policy's standby cluster.
 * On creation (its last entry, when the cluster is up) of a cluster that was
 * deleted and whose policy asks for it: a restore into the new cluster.
 * Every decision is deterministic in the entry, so redelivery repeats none.
 *
 * An entry is a claim, not a fact: whoever may publish to the topic can
 * forge one. With `clusters` (the GKE inventory), a deletion is acted on
 * only when the Container API confirms it (the cluster is gone, STOPPING or
 * ERROR), and a recreate restore only targets a cluster created after the
 * recorded deletion. Without it (local mode: kubeconfig contexts, no
 * Container API to ask) the entry is acted on as given, as before.
 */
export async function respondToClusterEvent(
  entry: AuditLogEntry,
  deps: {
    store: ObjectStore;
    disks: DiskSnapshotter;
    deadline: Deadline;
    /** The deployed policies: whether a standby or recreate restore is still wanted is theirs to say. */
    deployment: Pick<DeployedConfiguration, 'policy'>;
    clusters?: Pick<ClusterInventory, 'get'>;
    /** The data key: the backups acted on must be sealed with it, and last-chance catalogs are. */
    sealer?: Sealer;
  },
): Promise<ClusterEventResult> {
  const cluster = clusterOf(entry);
  const method = entry.protoPayload.methodName;
  const operationKey = `${method}/${entry.operation?.id ?? entry.insertId ?? entry.timestamp}/${Layout.clusterKey(cluster)}`;
  const response: ClusterResponse = {
    apiVersion: API_VERSION,
    kind: 'ClusterResponse',
    cluster,
    methodName: method,
    actions: [],
    lockedBackups: [],
    snapshots: [],
    notes: [],
  };
  const ignore = (note: string): ClusterEventResult => ({
    response: { ...response, actions: ['ignored'], notes: [...response.notes, note] },
  });
  if ((entry.protoPayload.status?.code ?? 0) !== 0)
    return ignore('the request failed; nothing changed');
  // One unreadable catalog must not cost the whole response: it is skipped and named in the notes.
  // Only a backup sealed with the data key is acted on: a catalog planted in the bucket never is.
  const { catalog: latest, unreadable } = await latestGoodCatalog(deps.store, cluster, {
    sealer: deps.sealer,
    authenticatedOnly: true,
  });
  for (const u of unreadable) response.notes.push(`backup ${u.backupId} skipped: ${u.reason}`);

  if (isMethod(method, DELETE_CLUSTER)) {
    // A long operation logs a first entry and a last one; the deletion is answered at its start.
    if (entry.operation?.last && !entry.operation.first)
      return ignore('the end of a deletion already answered at its start');
    if (deps.clusters) {
      // Asked before anything is written: a forged entry leaves no deleted marker either.
      const live = await deps.clusters.get(cluster);
      if (live && !DELETION_CONFIRMING_STATUSES.includes(live.status)) {
        return ignore(
          `deletion not confirmed: the Container API says ${Layout.clusterKey(cluster)} is ${live.status}; nothing locked or restored`,
        );
      }
      response.notes.push(
        live
          ? `deletion confirmed: the Container API says the cluster is ${live.status}`
          : 'deletion confirmed: the Container API no longer knows the cluster',
      );
    }
    await deps.store.createIfAbsent(
      Layout.deletedMarker(cluster),
      JSON.stringify({ deletedAt: entry.timestamp, operationKey }),
    );
    if (!latest)
      return ignore(
        `no Completed backup of ${Layout.clusterKey(cluster)}: nothing to protect or restore`,
      );
    // Locked before the last-chance backup reuses its packs and snapshots, so no sweep running
    // meanwhile can expire it (the lock is written, then the expiring mark looked for).
    const reason = `cluster deleted (${entry.timestamp})`;
    await lockBackup(deps.store, cluster, latest.backupId, reason);
    const lastChance = await lastChanceBackup(
      deps.store,
      deps.disks,
      latest,
      operationKey,
      deps.deadline,
      deps.sealer,
    );
    response.actions.push('last-chance-snapshots');
    response.snapshots = lastChance.snapshots;
    response.notes.push(...lastChance.notes);
    await lockBackup(deps.store, cluster, lastChance.catalog.backupId, reason);
    response.lockedBackups.push(latest.backupId, lastChance.catalog.backupId);
    response.actions.push('locked-backups');
    // Today's deployed policy decides, not the one recorded when the backup was taken.
    const policy = deps.deployment.policy(latest.policy.name);
    if (!policy) {
      response.notes.push(`policy ${latest.policy.name} is no longer deployed: no standby restore`);
      return { response };
    }
    const standby = policy.standbyCluster;
    if (!standby) return { response };
    return withRestore(response, 'standby-restore-requested', {
      restoreId: `dr-${shortHash(operationKey)}`,
      plan: `standby:${policy.name}`,
      backup: {
        backupId:
          lastChance.catalog.phase === 'Completed' ? lastChance.catalog.backupId : latest.backupId,
        cluster,
      },
      target: standby,
    });
  }

  if (isMethod(method, CREATE_CLUSTER)) {
    if (entry.operation?.first && !entry.operation.last) {
      return ignore('the cluster is not up yet; the entry that ends the creation is answered');
    }
    const wasDeleted = await deps.store.exists(Layout.deletedMarker(cluster));
    if (!wasDeleted || !latest) return ignore('no earlier deletion of this cluster with a backup');
    const policy = deps.deployment.policy(latest.policy.name);
    if (!policy?.restoreOnRecreate)
      return ignore(`deployed policy ${latest.policy.name} does not restore on recreation`);
    if (deps.clusters) {
      const refused = await notRecreated(deps.store, deps.clusters, cluster);
      if (refused) return ignore(refused);
    }
    return withRestore(response, 'recreate-restore-requested', {
      restoreId: `recreate-${shortHash(operationKey)}`,
      plan: `recreate:${policy.name}`,
      backup: { latestOf: cluster },
      target: cluster,
    });
  }
  return ignore(`method ${method} needs no response`);
}

/** The response with a restore requested (the action and the restore id noted in it), and the request. */
function withRestore(
  response: ClusterResponse,
  action: 'standby-restore-requested' | 'recreate-restore-requested',
  request: Pick<RestoreRequest, 'restoreId' | 'plan' | 'backup' | 'target'>,
): ClusterEventResult {
  response.actions.push(action);
  response.restoreId = request.restoreId;
  return {
    response,
    restore: { apiVersion: API_VERSION, kind: 'RestoreRequest', ...request, step: 0 },
  };
}

/**
 * Why a recreate restore must not target the cluster the Container API
 * knows under this name, or undefined when it may: the cluster must exist
 * and have been created after the deletion the marker records.
 */
async function notRecreated(
  store: ObjectStore,
  clusters: Pick<ClusterInventory, 'get'>,
  cluster: ClusterRef,
): Promise<string | undefined> {
  const key = Layout.clusterKey(cluster);
  const live = await clusters.get(cluster);
  if (!live) return `the Container API does not know ${key}: nothing to restore into`;
  // Read outside the parse: a store that fails is retried, only an unreadable marker is refused.
  const body = (await store.get(Layout.deletedMarker(cluster))).toString('utf8');
  let deletedAt = NaN;
  let recorded = '';
  try {
    const marker = JSON.parse(body) as { deletedAt?: unknown };
    recorded = String(marker.deletedAt);
    deletedAt = typeof marker.deletedAt === 'string' ? Date.parse(marker.deletedAt) : NaN;
  } catch {
    // An unreadable marker records no deletion time: refused below.
  }
  const createdAt = live.createTime ? Date.parse(live.createTime) : NaN;
  if (Number.isNaN(deletedAt))
    return `the deletion marker of ${key} records no readable deletion time; nothing restored`;
  if (Number.isNaN(createdAt))
    return `the Container API gives no creation time for ${key}; nothing restored`;
  if (createdAt <= deletedAt) {
    return `${key} was created at ${live.createTime}, not after its recorded deletion at ${recorded}: not a recreated cluster; nothing restored`;
  }
  return undefined;
}
