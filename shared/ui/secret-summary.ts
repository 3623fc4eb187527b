import type { KubeObject } from '../kube/sanitize.js';

/** A Secret as the UI may show it: its metadata and each key's size, never a value. */
export interface SecretSummary {
  metadata: Record<string, unknown>;
  type: string | undefined;
  keys: { key: string; bytes: number }[];
}

/**
 * kubectl apply keeps the whole applied manifest, values included, in this
 * annotation: shown, it would leak what the page promises never to show.
 */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Keys and decoded byte sizes of a Secret's `data` (base64) and `stringData` (text). */
export function summarizeSecret(secret: KubeObject): SecretSummary {
  const data = (secret['data'] ?? {}) as Record<string, string>;
  const stringData = (secret['stringData'] ?? {}) as Record<string, string>;
  const keys = [
    ...Object.entries(data).map(([key, v]) => ({ key, bytes: Buffer.from(v, 'base64').length })),
    ...Object.entries(stringData).map(([key, v]) => ({ key, bytes: Buffer.byteLength(v, 'utf8') })),
  ].sort((a, b) => a.key.localeCompare(b.key));
  const annotations = { ...(secret.metadata.annotations ?? {}) };
  if (LAST_APPLIED in annotations) annotations[LAST_APPLIED] = '(hidden: it holds the values)';
  const metadata: Record<string, unknown> = { ...secret.metadata };
  if (secret.metadata.annotations) metadata['annotations'] = annotations;
  return { metadata, type: secret['type'] as string | undefined, keys };
}
