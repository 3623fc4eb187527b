/** A Kubernetes object as plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    generateName?: string;
    deletionTimestamp?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

const METADATA_DROPPED = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionGracePeriodSeconds',
] as const;

const ANNOTATIONS_DROPPED = [
  'deployment.kubernetes.io/revision',
  'kubectl.kubernetes.io/last-applied-configuration',
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
];

function lastAppliedNodePorts(annotations: Record<string, string> | undefined): Set<string> {
  const keep = new Set<string>();
  const last = annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
  if (!last) return keep;
  try {
    const spec = (
      JSON.parse(last) as {
        spec?: { ports?: { name?: string; port?: number; nodePort?: number }[] };
      }
    ).spec;
    for (const p of spec?.ports ?? []) if (p.nodePort) keep.add(`${p.name ?? ''}/${p.port ?? ''}`);
  } catch {
    // a malformed annotation keeps nothing
  }
  return keep;
}

/** Fields the API server allocated for the source cluster that would clash or mislead in another. */
function sanitizeService(obj: KubeObject): void {
  const spec = obj['spec'] as Record<string, unknown> | undefined;
  if (!spec) return;
  if (spec['clusterIP'] !== 'None') {
    delete spec['clusterIP'];
    delete spec['clusterIPs'];
  }
  delete spec['healthCheckNodePort'];
  // Velero's rule: keep a nodePort only when the user asked for it explicitly.
  const keep = lastAppliedNodePorts(obj.metadata.annotations);
  for (const port of (spec['ports'] as Record<string, unknown>[] | undefined) ?? []) {
    if (!keep.has(`${String(port['name'] ?? '')}/${String(port['port'] ?? '')}`))
      delete port['nodePort'];
  }
}

function sanitizePersistentVolume(obj: KubeObject): void {
  const claimRef = (obj['spec'] as { claimRef?: Record<string, unknown> } | undefined)?.claimRef;
  if (claimRef) {
    delete claimRef['uid'];
    delete claimRef['resourceVersion'];
  }
}

function sanitizePod(obj: KubeObject): void {
  const spec = obj['spec'] as Record<string, unknown> | undefined;
  if (!spec) return;
  delete spec['nodeName'];
  // Projected service-account token volumes are injected by admission; let the target add its own.
  const isToken = (v: { name?: string }): boolean =>
    v.name?.startsWith('kube-api-access-') ?? false;
  const volumes = spec['volumes'] as { name?: string }[] | undefined;
  if (volumes) spec['volumes'] = volumes.filter((v) => !isToken(v));
  for (const key of ['containers', 'initContainers'] as const) {
    for (const c of (spec[key] as { volumeMounts?: { name?: string }[] }[] | undefined) ?? []) {
      if (c.volumeMounts) c.volumeMounts = c.volumeMounts.filter((m) => !isToken(m));
    }
  }
}

/**
 * Returns a copy of the object fit for restore into another cluster:
 * status, identity and server-allocated fields removed. Owner references
 * stay (restore decides with them); their uids are fixed up at restore.
 */
export function sanitize(original: KubeObject): KubeObject {
  // Through JSON so that fields sanitizeInPlace set to undefined are gone, not merely empty.
  return JSON.parse(JSON.stringify(sanitizeInPlace(structuredClone(original)))) as KubeObject;
}

/**
 * sanitize() without the copy, for objects the caller owns and serialises
 * next (a freshly parsed LIST page). Dropped fields are set to undefined
 * rather than deleted: JSON.stringify leaves them out all the same, and the
 * object keeps V8's fast shape (delete turns it into a slow dictionary).
 */
export function sanitizeInPlace(obj: KubeObject): KubeObject {
  // Spec rules first: the Service rule reads an annotation dropped below.
  if (obj.kind === 'Service') sanitizeService(obj);
  if ('status' in obj) obj['status'] = undefined;
  const metadata = obj.metadata;
  for (const field of METADATA_DROPPED) if (field in metadata) metadata[field] = undefined;
  const annotations = metadata.annotations;
  if (annotations && ANNOTATIONS_DROPPED.some((a) => a in annotations)) {
    const kept = { ...annotations };
    for (const a of ANNOTATIONS_DROPPED) delete kept[a];
    if (Object.keys(kept).length === 0) delete metadata.annotations;
    else metadata.annotations = kept;
  }
  if (obj.kind === 'PersistentVolume') sanitizePersistentVolume(obj);
  if (obj.kind === 'Pod') sanitizePod(obj);
  return obj;
}
