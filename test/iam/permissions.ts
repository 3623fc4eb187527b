import type { ApiCall, RecordedApi } from '../../local/api-recorder.js';

/**
 * The IAM permissions of every Google Cloud API method Lifeboat's functions
 * call, from Google's documentation of each method, and where each is
 * granted. A recorded call that no rule names fails the IAM test: a new
 * method must be added here, with its permissions from the documentation,
 * before it can be used.
 *
 * Sources (consulted for this table):
 *  - Cloud Storage: https://cloud.google.com/storage/docs/access-control/iam-json
 *    (objects get/list/insert/delete/patch), and its footnote: replacing an
 *    existing object needs storage.objects.delete as well as create
 *    (https://cloud.google.com/storage/docs/access-control/iam-xml, note 4);
 *    objects.patch needs storage.objects.update
 *    (https://cloud.google.com/storage/docs/json_api/v1/objects/patch).
 *  - Compute Engine: the "IAM Permissions" section of each method's page under
 *    https://cloud.google.com/compute/docs/reference/rest/v1/ (zoneOperations.get
 *    and .wait: compute.zoneOperations.get; regionOperations: compute.regionOperations.get;
 *    globalOperations: compute.globalOperations.get); snapshots
 *    (https://cloud.google.com/sdk/gcloud/reference/compute/disks/snapshot: creating a
 *    snapshot needs compute.disks.createSnapshot and compute.snapshots.create); a disk
 *    from a snapshot (https://cloud.google.com/compute/docs/disks/restore-snapshot:
 *    compute.disks.create and compute.snapshots.useReadOnly); labels given at
 *    creation need the resource's setLabels permission; disks.delete and
 *    regionDisks.delete: compute.disks.delete.
 *  - GKE: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters
 *    (get: container.clusters.get; list: container.clusters.list). Lifeboat
 *    reads the endpoint and CA with clusters.get and connects with its own
 *    access token; what it may do inside a cluster is that cluster's RBAC.
 *  - Pub/Sub: https://cloud.google.com/pubsub/docs/access-control (Publish:
 *    pubsub.topics.publish on the topic; roles/pubsub.publisher holds exactly that).
 *  - Cloud KMS: https://cloud.google.com/iam/docs/roles-permissions/cloudkms
 *    (encrypt: cloudkms.cryptoKeyVersions.useToEncrypt; decrypt: useToDecrypt).
 */

/**
 * Where a permission is granted: on the project (a custom role,
 * project_permissions), on the backup bucket (a custom role,
 * bucket_permissions), on one topic (roles/pubsub.publisher, iam.tf), or on
 * the KMS key (kms.tf).
 */
export type Scope = 'project' | 'bucket' | 'key' | `topic:${string}`;

/** What one recorded call is, and what it needs. */
export interface Operation {
  /** The API method, as Google's reference names it (storage.objects.insert). */
  method: string;
  /** Permissions, each with where it is needed. */
  needs: { permission: string; scope: Scope }[];
}

interface Rule {
  api: RecordedApi;
  verb: string;
  path: RegExp;
  method: string;
  permissions: (call: ApiCall) => string[];
}

const fixed =
  (...permissions: string[]) =>
  (): string[] =>
    permissions;
const has = (call: ApiCall, field: string): boolean => call.bodyFields?.includes(field) ?? false;

// Paths of fake-gcs-server and of the real JSON API alike.
const OBJECTS = String.raw`^(?:/download)?/storage/v1/b/[^/]+/o`;
const OBJECT = `${OBJECTS}/[^/]+$`;
const COMPUTE = String.raw`^/compute/v1/projects/[^/]+`;
const CLUSTERS = String.raw`^/v1/projects/[^/]+/locations/[^/]+/clusters`;
const CRYPTO_KEY = String.raw`^/v1/projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/:]+`;

const RULES: Rule[] = [
  // ---- Cloud Storage JSON API ----
  {
    api: 'storage',
    verb: 'GET',
    path: new RegExp(`${OBJECTS}$`),
    method: 'storage.objects.list',
    permissions: fixed('storage.objects.list'),
  },
  {
    // Metadata (exists, getMetadata) and, with alt=media, the bytes: both need get.
    api: 'storage',
    verb: 'GET',
    path: new RegExp(OBJECT),
    method: 'storage.objects.get',
    permissions: fixed('storage.objects.get'),
  },
  {
    api: 'storage',
    verb: 'DELETE',
    path: new RegExp(OBJECT),
    method: 'storage.objects.delete',
    permissions: fixed('storage.objects.delete'),
  },
  {
    api: 'storage',
    verb: 'PATCH',
    path: new RegExp(OBJECT),
    method: 'storage.objects.patch',
    permissions: fixed('storage.objects.update'),
  },
  {
    api: 'storage',
    verb: 'PUT',
    path: new RegExp(OBJECT),
    method: 'storage.objects.update',
    permissions: fixed('storage.objects.update'),
  },
  {
    // An upload. With ifGenerationMatch=0 it can only create (a 412 when the object
    // exists); without, it replaces whatever is there, which needs delete as well.
    api: 'storage',
    verb: 'POST',
    path: /^\/upload\/storage\/v1\/b\/[^/]+\/o$/,
    method: 'storage.objects.insert',
    permissions: (call) =>
      call.query['ifGenerationMatch'] === '0'
        ? ['storage.objects.create']
        : ['storage.objects.create', 'storage.objects.delete'],
  },
  {
    // The data of a resumable upload: authorised when the session was started.
    api: 'storage',
    verb: 'PUT',
    path: /^\/upload\/storage\/v1\/b\/[^/]+\/o$/,
    method: 'storage.objects.insert (resumable data)',
    permissions: fixed(),
  },

  // ---- Compute Engine API v1 ----
  {
    api: 'compute',
    verb: 'GET',
    path: new RegExp(`${COMPUTE}$`),
    method: 'compute.projects.get',
    permissions: fixed('compute.projects.get'),
  },
  {
    api: 'compute',
    verb: 'GET',
    path: new RegExp(`${COMPUTE}/regions/[^/]+$`),
    method: 'compute.regions.get',
    permissions: fixed('compute.regions.get'),
  },
  {
    api: 'compute',
    verb: 'GET',
    path: new RegExp(`${COMPUTE}/global/snapshots/[^/]+$`),
    method: 'compute.snapshots.get',
    permissions: fixed('compute.snapshots.get'),
  },
  {
    api: 'compute',
    verb: 'GET',
    path: new RegExp(`${COMPUTE}/global/snapshots$`),
    method: 'compute.snapshots.list',
    permissions: fixed('compute.snapshots.list'),
  },
  {
    api: 'compute',
    verb: 'POST',
    path: new RegExp(`${COMPUTE}/global/snapshots$`),
    method: 'compute.snapshots.insert',
    permissions: (call) => [
      'compute.snapshots.create',
      ...(has(call, 'sourceDisk') ? ['compute.disks.createSnapshot'] : []),
      ...(has(call, 'labels') ? ['compute.snapshots.setLabels'] : []),
    ],
  },
  {
    api: 'compute',
    verb: 'DELETE',
    path: new RegExp(`${COMPUTE}/global/snapshots/[^/]+$`),
    method: 'compute.snapshots.delete',
    permissions: fixed('compute.snapshots.delete'),
  },
  {
    api: 'compute',
    verb: 'POST',
    path: new RegExp(`${COMPUTE}/global/snapshots/[^/]+/setLabels$`),
    method: 'compute.snapshots.setLabels',
    permissions: fixed('compute.snapshots.setLabels'),
  },
  {
    api: 'compute',
    verb: 'GET',
    path: new RegExp(`${COMPUTE}/(?:zones|regions)/[^/]+/disks/[^/]+$`),
    method: 'compute.disks.get / compute.regionDisks.get',
    permissions: fixed('compute.disks.get'),
  },
  {
    api: 'compute',
    verb: 'POST',
    path: new RegExp(`${COMPUTE}/(?:zones|regions)/[^/]+/disks$`),
    method: 'compute.disks.insert / compute.regionDisks.insert',
    permissions: (call) => [
      'compute.disks.create',
      ...(has(call, 'sourceSnapshot') ? ['compute.snapshots.useReadOnly'] : []),
      ...(has(call, 'sourceDisk') ? ['compute.disks.useReadOnly'] : []),
      ...(has(call, 'labels') ? ['compute.disks.setLabels'] : []),
    ],
  },
  {
    // disks.delete and regionDisks.delete: both document compute.disks.delete.
    api: 'compute',
    verb: 'DELETE',
    path: new RegExp(`${COMPUTE}/(?:zones|regions)/[^/]+/disks/[^/]+$`),
    method: 'compute.disks.delete / compute.regionDisks.delete',
    permissions: fixed('compute.disks.delete'),
  },
  {
    // get and wait alike (the wait method documents the same permission).
    api: 'compute',
    verb: '(GET|POST)',
    path: new RegExp(`${COMPUTE}/zones/[^/]+/operations/[^/]+(?:/wait)?$`),
    method: 'compute.zoneOperations.get / wait',
    permissions: fixed('compute.zoneOperations.get'),
  },
  {
    api: 'compute',
    verb: '(GET|POST)',
    path: new RegExp(`${COMPUTE}/regions/[^/]+/operations/[^/]+(?:/wait)?$`),
    method: 'compute.regionOperations.get / wait',
    permissions: fixed('compute.regionOperations.get'),
  },
  {
    api: 'compute',
    verb: '(GET|POST)',
    path: new RegExp(`${COMPUTE}/global/operations/[^/]+(?:/wait)?$`),
    method: 'compute.globalOperations.get / wait',
    permissions: fixed('compute.globalOperations.get'),
  },

  // ---- GKE (Container API v1) ----
  {
    api: 'container',
    verb: 'GET',
    path: new RegExp(`${CLUSTERS}$`),
    method: 'container.projects.locations.clusters.list',
    permissions: fixed('container.clusters.list'),
  },
  {
    api: 'container',
    verb: 'GET',
    path: new RegExp(`${CLUSTERS}/[^/]+$`),
    method: 'container.projects.locations.clusters.get',
    permissions: fixed('container.clusters.get'),
  },

  // ---- Cloud KMS ----
  {
    api: 'kms',
    verb: 'POST',
    path: new RegExp(`${CRYPTO_KEY}(?::|%3A)encrypt$`, 'i'),
    method: 'cloudkms.projects.locations.keyRings.cryptoKeys.encrypt',
    permissions: fixed('cloudkms.cryptoKeyVersions.useToEncrypt'),
  },
  {
    api: 'kms',
    verb: 'POST',
    path: new RegExp(`${CRYPTO_KEY}(?::|%3A)decrypt$`, 'i'),
    method: 'cloudkms.projects.locations.keyRings.cryptoKeys.decrypt',
    permissions: fixed('cloudkms.cryptoKeyVersions.useToDecrypt'),
  },

  // ---- Pub/Sub (gRPC) ----
  {
    api: 'pubsub',
    verb: 'POST',
    path: /^\/google\.pubsub\.v1\.Publisher\/Publish$/,
    method: 'pubsub.projects.topics.publish',
    permissions: fixed('pubsub.topics.publish'),
  },
];

const SCOPES: Record<Exclude<RecordedApi, 'pubsub'>, Scope> = {
  storage: 'bucket',
  compute: 'project',
  container: 'project',
  kms: 'key',
};

export class UnmappedCallError extends Error {}

/**
 * What a recorded call is and which permissions it needs. Pub/Sub
 * permissions are scoped to the topic's role (its name without `topicPrefix`).
 */
export function operationOf(call: ApiCall, topicPrefix: string): Operation {
  const rule = RULES.find(
    (r) =>
      r.api === call.api &&
      new RegExp(`^${r.verb}$`).test(call.method) &&
      // Object names stay encoded (a%2Fb): one path segment, as the API reads it.
      r.path.test(call.path),
  );
  if (!rule) {
    throw new UnmappedCallError(
      `${call.fn} called ${call.api} ${call.method} ${call.path}, which test/iam/permissions.ts does not map to IAM permissions: add the method with the permissions Google documents for it`,
    );
  }
  let scope: Scope;
  if (call.api === 'pubsub') {
    const topic = (call.topic ?? '').split('/').pop() ?? '';
    if (!topic.startsWith(topicPrefix)) {
      throw new UnmappedCallError(
        `${call.fn} called ${call.path} on topic "${call.topic ?? '(unread)'}", which is not a topic of this deployment (prefix ${topicPrefix})`,
      );
    }
    scope = `topic:${topic.slice(topicPrefix.length)}`;
  } else scope = SCOPES[call.api];
  return {
    method: rule.method,
    needs: rule.permissions(call).map((permission) => ({ permission, scope })),
  };
}

/**
 * The permissions of the predefined roles infra/ grants to functions, from
 * https://cloud.google.com/iam/docs/roles-permissions (Pub/Sub, Cloud KMS,
 * Cloud Storage).
 * `checked` are those an API call of the functions can need: a permission
 * used and not among them fails the test. A predefined role cannot be
 * trimmed, so its binding counts as used when any of them is: the
 * Encrypter/Decrypter role is one grant, since whichever function loads the
 * data key first on a new store creates and encrypts it (loadSealer), while
 * the others only decrypt. `beyondUse` is what else the role carries, which
 * no call needs.
 */
export const PREDEFINED_ROLES: Record<string, { checked: string[]; beyondUse: string[] }> = {
  'roles/pubsub.publisher': { checked: ['pubsub.topics.publish'], beyondUse: [] },
  // The ui function's read-only access to the bucket
  // (https://cloud.google.com/iam/docs/roles-permissions/storage#storage.objectViewer).
  'roles/storage.objectViewer': {
    checked: ['storage.objects.get', 'storage.objects.list'],
    beyondUse: [
      'resourcemanager.projects.get',
      'resourcemanager.projects.list',
      'storage.folders.get',
      'storage.folders.list',
      'storage.managedFolders.get',
      'storage.managedFolders.list',
    ],
  },
  'roles/cloudkms.cryptoKeyEncrypterDecrypter': {
    checked: ['cloudkms.cryptoKeyVersions.useToDecrypt', 'cloudkms.cryptoKeyVersions.useToEncrypt'],
    beyondUse: [
      'cloudkms.locations.get',
      'cloudkms.locations.list',
      'resourcemanager.projects.get',
    ],
  },
  'roles/cloudkms.cryptoKeyDecrypter': {
    checked: ['cloudkms.cryptoKeyVersions.useToDecrypt'],
    beyondUse: [
      'cloudkms.locations.get',
      'cloudkms.locations.list',
      'resourcemanager.projects.get',
    ],
  },
  'roles/cloudkms.cryptoKeyEncrypter': {
    checked: ['cloudkms.cryptoKeyVersions.useToEncrypt'],
    beyondUse: [
      'cloudkms.locations.get',
      'cloudkms.locations.list',
      'resourcemanager.projects.get',
    ],
  },
};

/**
 * Permissions granted that the test never sees used, each on a path the
 * local environment cannot reach, with why. Keep it short: every entry is a
 * permission nothing proves is needed.
 */
export const UNEXERCISED: { fn: string; scope: Scope; permission: string; why: string }[] = [
  {
    fn: 'exportShard',
    scope: 'bucket',
    permission: 'storage.objects.list',
    why:
      'loadSealer (shared/catalog/data-key.ts) lists the catalogs naming the data key when the key ' +
      'object is missing, to refuse with MissingDataKeyError rather than make a new key; ' +
      'exportManifests loads the key for every backup first, so exportShard lists only when the ' +
      'key disappears between the two',
  },
];
