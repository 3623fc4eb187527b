import type { KubeObject } from './sanitize.js';

/**
 * Per-kind rules: what a verbatim copy of an object would get wrong in
 * another cluster, because the source's API server or controllers filled
 * it in. Applied when a backup is written (sanitize) and again at restore,
 * so catalogs written before a rule existed are restored by it too. Every
 * rule is idempotent.
 */
type Rule = (obj: KubeObject) => void;

type Spec = Record<string, unknown>;
const specOf = (obj: KubeObject): Spec | undefined => obj['spec'] as Spec | undefined;

function dropAnnotations(obj: KubeObject, names: readonly string[]): void {
  const annotations = obj.metadata.annotations;
  if (!annotations || !names.some((a) => a in annotations)) return;
  const kept = { ...annotations };
  for (const a of names) delete kept[a];
  if (Object.keys(kept).length === 0) delete obj.metadata.annotations;
  else obj.metadata.annotations = kept;
}

function dropLabels(labels: Record<string, string> | undefined, names: readonly string[]) {
  if (!labels || !names.some((l) => l in labels)) return labels;
  const kept = { ...labels };
  for (const l of names) delete kept[l];
  return Object.keys(kept).length === 0 ? undefined : kept;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function lastAppliedNodePorts(annotations: Record<string, string> | undefined): Set<string> {
  const keep = new Set<string>();
  const last = annotations?.[LAST_APPLIED];
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

/**
 * Services: the cluster IP comes from the source's service range (it may be
 * taken or outside the target's), so it is allocated afresh, headless
 * (None) excepted; a nodePort stays only when the user's last apply named it
 * (Velero's rule), others are allocated afresh like the health-check port.
 */
function service(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec) return;
  if (spec['clusterIP'] !== 'None') {
    delete spec['clusterIP'];
    delete spec['clusterIPs'];
  }
  delete spec['healthCheckNodePort'];
  const keep = lastAppliedNodePorts(obj.metadata.annotations);
  for (const port of (spec['ports'] as Record<string, unknown>[] | undefined) ?? []) {
    if (!keep.has(`${String(port['name'] ?? '')}/${String(port['port'] ?? '')}`))
      delete port['nodePort'];
  }
}

/** PVs: the claim's uid and version are the source's; the binder matches the claim by name. */
function persistentVolume(obj: KubeObject): void {
  const claimRef = (specOf(obj) as { claimRef?: Record<string, unknown> } | undefined)?.claimRef;
  if (claimRef) {
    delete claimRef['uid'];
    delete claimRef['resourceVersion'];
  }
  // The binder's bookkeeping: it binds again in the target and writes its own.
  dropAnnotations(obj, ['pv.kubernetes.io/bound-by-controller']);
}

/** Claims: binding bookkeeping and the source's node choice (a node the target does not have). */
function persistentVolumeClaim(obj: KubeObject): void {
  dropAnnotations(obj, [
    'pv.kubernetes.io/bind-completed',
    'pv.kubernetes.io/bound-by-controller',
    'volume.kubernetes.io/selected-node',
  ]);
}

/**
 * Pods owned by nothing (others are left to their controllers): the node is
 * the source's, the service-account token volume is injected by the target's
 * admission, and ephemeral containers cannot be set on create.
 */
function pod(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec) return;
  delete spec['nodeName'];
  delete spec['ephemeralContainers'];
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

const JOB_UID_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid'] as const;

/**
 * Jobs: unless the user chose the selector (manualSelector), it and the
 * template's controller-uid labels name the source Job's uid, which the API
 * server refuses on create (422); without them it generates both anew.
 */
function job(obj: KubeObject): void {
  const spec = specOf(obj);
  if (!spec || spec['manualSelector'] === true) return;
  delete spec['selector'];
  const template = spec['template'] as { metadata?: { labels?: Record<string, string> } };
  if (template?.metadata) {
    const labels = dropLabels(template.metadata.labels, JOB_UID_LABELS);
    if (labels) template.metadata.labels = labels;
    else delete template.metadata.labels;
  }
  // The Job's own copy of those labels (batch/v1 puts them on the Job too).
  obj.metadata.labels = dropLabels(obj.metadata.labels, JOB_UID_LABELS);
  if (obj.metadata.labels === undefined) delete obj.metadata.labels;
}

/** Deployments: the rollout revision is the Deployment controller's counter, which it restarts. */
function deployment(obj: KubeObject): void {
  dropAnnotations(obj, ['deployment.kubernetes.io/revision']);
}

/**
 * ServiceAccount token Secrets: the token was signed by the source's key
 * and names the source's account uid (the target's token controller deletes
 * a Secret whose uid does not match); without both it mints a valid token.
 */
function secret(obj: KubeObject): void {
  if (obj['type'] !== 'kubernetes.io/service-account-token') return;
  dropAnnotations(obj, ['kubernetes.io/service-account.uid']);
  const data = obj['data'] as Record<string, string> | undefined;
  if (data) {
    for (const key of ['token', 'ca.crt', 'namespace']) delete data[key];
    if (Object.keys(data).length === 0) delete obj['data'];
  }
}

/** By API group and kind: a custom resource may share a built-in kind's name. */
const RULES: Record<string, Rule> = {
  '/Service': service,
  '/PersistentVolume': persistentVolume,
  '/PersistentVolumeClaim': persistentVolumeClaim,
  '/Pod': pod,
  '/Secret': secret,
  'batch/Job': job,
  'apps/Deployment': deployment,
};

/** Applies the object's kind rule, if any, in place. */
export function applyKindRules(obj: KubeObject): KubeObject {
  const slash = obj.apiVersion?.lastIndexOf('/') ?? -1;
  const group = slash > 0 ? obj.apiVersion.slice(0, slash) : '';
  RULES[`${group}/${obj.kind}`]?.(obj);
  return obj;
}
