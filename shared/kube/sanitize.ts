import { applyKindRules } from './kind-rules.js';

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

/**
 * What the source's API server assigned to the object: the only metadata a
 * backup drops besides what a kind rule (kind-rules.ts) names. Annotations,
 * kubectl's last-applied-configuration included, stay as they were.
 */
const METADATA_DROPPED = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
] as const;

export interface SanitizeOptions {
  /**
   * Keep .status: for custom resources, whose operators keep real state
   * there (restored through the status subresource). Built-in resources'
   * status is their controllers' and is rebuilt in the target.
   */
  keepStatus?: boolean;
}

/**
 * Returns a copy of the object fit for restore into another cluster:
 * status, identity and server-allocated fields removed. Owner references
 * stay (restore decides with them); their uids are fixed up at restore.
 */
export function sanitize(original: KubeObject, options: SanitizeOptions = {}): KubeObject {
  // Through JSON so that fields sanitizeInPlace set to undefined are gone, not merely empty.
  return JSON.parse(
    JSON.stringify(sanitizeInPlace(structuredClone(original), options)),
  ) as KubeObject;
}

/**
 * sanitize() without the copy, for objects the caller owns and serialises
 * next (a freshly parsed LIST page). Dropped fields are set to undefined
 * rather than deleted: JSON.stringify leaves them out all the same, and the
 * object keeps V8's fast shape (delete turns it into a slow dictionary).
 */
export function sanitizeInPlace(obj: KubeObject, options: SanitizeOptions = {}): KubeObject {
  if ('status' in obj && !options.keepStatus) obj['status'] = undefined;
  const metadata = obj.metadata;
  for (const field of METADATA_DROPPED) if (field in metadata) metadata[field] = undefined;
  return applyKindRules(obj);
}
