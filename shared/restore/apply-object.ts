import { isDeepStrictEqual } from 'node:util';
import type { ConflictPolicy } from '../messages/restore.js';
import type { ResourceRef } from '../messages/backup.js';
import {
  getOrUndefined,
  KubeApiError,
  pathSegment,
  resourcePath,
  type KubeHttp,
} from '../kube/kube-http.js';
import { sanitize, type KubeObject } from '../kube/sanitize.js';
import { applyKindRules } from '../kube/kind-rules.js';
import { isBuiltinGroup } from '../kube/builtin-groups.js';
import { errorMessage } from '../errors.js';
import { Deadline } from '../time/deadline.js';
import { poll, retry } from '../time/retry.js';
import { interceptorWarning } from './intercept.js';
import type { Outcome } from './report.js';
import { atVersion, servedAlternative } from './served-version.js';
import { restoreStatus } from './status.js';

const CUSTOM_RESOURCE_RETRIES = 8;

/** Every restored object carries the restore's id, so a redelivered restore recognises its own work. */
export const RESTORE_LABEL = 'lifeboat.dev/restore';

function withRestoreLabel(obj: KubeObject, restoreId: string): KubeObject {
  return {
    ...obj,
    metadata: { ...obj.metadata, labels: { ...obj.metadata.labels, [RESTORE_LABEL]: restoreId } },
  };
}

/** Sanitised, without our label: the form two objects are compared in. */
export function comparable(obj: KubeObject): KubeObject {
  const s = sanitize(obj);
  if (s.metadata.labels) {
    delete s.metadata.labels[RESTORE_LABEL];
    if (Object.keys(s.metadata.labels).length === 0) delete s.metadata.labels;
  }
  return s;
}

/** Whether an existing object needs no action: created by this very restore, or already identical. */
async function alreadyRestored(
  http: KubeHttp,
  ref: ResourceRef,
  obj: KubeObject,
  restoreId: string,
): Promise<string | undefined> {
  const live = await http.request<KubeObject>(
    'GET',
    resourcePath(ref, obj.metadata.namespace, obj.metadata.name),
  );
  if (live.metadata.labels?.[RESTORE_LABEL] === restoreId)
    return 'created by an earlier attempt of this restore';
  if (isDeepStrictEqual(comparable(live), comparable(obj)))
    return 'already in the target, identical';
  return undefined;
}

/** A deleted object still there when looked at: looked at again, until the looks are spent. */
class StillPresent extends Error {
  constructor() {
    super('still present 10s after deletion (a finalizer holds it?)');
  }
}

/** Up to 100 looks, 100 ms apart, until a deleted object is gone. */
async function waitGone(http: KubeHttp, path: string): Promise<void> {
  await retry(
    async () => {
      if ((await getOrUndefined(http, path)) !== undefined) throw new StillPresent();
    },
    { attempts: 100, delayMs: () => 100, retryable: (error) => error instanceof StillPresent },
  );
}

async function replace(http: KubeHttp, path: string, obj: KubeObject): Promise<KubeObject> {
  const existing = await http.request<KubeObject>('GET', path);
  const update = {
    ...obj,
    metadata: { ...obj.metadata, resourceVersion: existing.metadata['resourceVersion'] },
  };
  try {
    return await http.request<KubeObject>('PUT', path, { body: update });
  } catch (error) {
    // 422 means an immutable field differs: the only way to the backed-up state is delete and create.
    if (!(error instanceof KubeApiError && error.status === 422)) throw error;
    await http.request('DELETE', path, { query: { propagationPolicy: 'Background' } });
    await waitGone(http, path);
    return http.request<KubeObject>('POST', path.slice(0, path.lastIndexOf('/')), { body: obj });
  }
}

export interface ApplyOptions {
  /** Put a custom resource's backed-up status back (default true). */
  restoreStatus?: boolean;
}

interface Applied {
  outcome: Outcome;
  reason?: string;
  /** The object as the target now has it, when this call wrote it. */
  live?: KubeObject;
  /** Where it was written: the backup's version, or the one the target serves instead. */
  ref: ResourceRef;
}

/**
 * Creates one object, applying the conflict policy when it exists, then
 * puts back a custom resource's status and says when a restored webhook or
 * APIService cannot answer yet. See createObject.
 */
export async function applyObject(
  http: KubeHttp,
  ref: ResourceRef,
  original: KubeObject,
  policy: ConflictPolicy,
  restoreId: string,
  options: ApplyOptions = {},
): Promise<{ outcome: Outcome; reason?: string }> {
  // Kind rules again: a catalog written before a rule existed still carries what it removes.
  const { status, ...rest } = applyKindRules(structuredClone(original));
  const withStatus =
    status !== undefined && options.restoreStatus !== false && !isBuiltinGroup(ref.group);
  // Without a status subresource a create keeps the status it is given; that is the restore.
  const body = (withStatus ? { ...rest, status } : rest) as KubeObject;
  const applied = await createObject(http, ref, body, policy, restoreId);
  const reasons = applied.reason ? [applied.reason] : [];
  const written = applied.outcome === 'restored' || applied.outcome === 'replaced';
  if (written && withStatus) {
    const problem = await restoreStatus(http, applied.ref, body, status, applied.live);
    if (problem) return { outcome: 'failed', reason: [...reasons, problem].join('; ') };
  }
  if (written) {
    // Only a note for the report: a check that cannot be made does not undo the restore.
    const warning = await interceptorWarning(http, body).catch(
      (error: unknown) =>
        `restored; whether its service answers is unknown: ${errorMessage(error)}`,
    );
    if (warning) reasons.push(warning);
  }
  return { outcome: applied.outcome, ...(reasons.length ? { reason: reasons.join('; ') } : {}) };
}

/**
 * Creates one object, applying the conflict policy when it exists:
 * `fail` reports it, `skip` leaves the live one, `replace` makes the live
 * one equal to the backup. A custom resource whose CRD was just
 * established may 404 for a moment while discovery catches up: retried.
 * A version the target does not serve is restored at one it serves, when
 * that needs no conversion (served-version.ts).
 */
async function createObject(
  http: KubeHttp,
  backedUpRef: ResourceRef,
  original: KubeObject,
  policy: ConflictPolicy,
  restoreId: string,
): Promise<Applied> {
  let ref = backedUpRef;
  let obj = withRestoreLabel(original, restoreId);
  let collection = resourcePath(ref, obj.metadata.namespace);
  let resolved = false;
  try {
    const live = await retry(() => http.request<KubeObject>('POST', collection, { body: obj }), {
      attempts: CUSTOM_RESOURCE_RETRIES,
      delayMs: (n) => 200 * n,
      retryable: async (error) => {
        if (!(error instanceof KubeApiError) || error.status !== 404) return false;
        if (!resolved) {
          const alternative = await servedAlternative(http, ref);
          if (alternative) {
            resolved = true;
            ref = alternative;
            obj = atVersion(obj, ref);
            collection = resourcePath(ref, obj.metadata.namespace);
            return 'at once';
          }
        }
        return error.reason === 'NotFound';
      },
    });
    return { outcome: 'restored', live, ref };
  } catch (error) {
    const exists =
      error instanceof KubeApiError && error.status === 409 && error.reason === 'AlreadyExists';
    if (!exists) throw error;
    return meetExisting(http, ref, obj, policy, restoreId);
  }
}

/** A create met an object of the same name: the conflict policy decides, unless it is already restored. */
async function meetExisting(
  http: KubeHttp,
  ref: ResourceRef,
  obj: KubeObject,
  policy: ConflictPolicy,
  restoreId: string,
): Promise<Applied> {
  const same = await alreadyRestored(http, ref, obj, restoreId);
  if (same?.startsWith('created')) return { outcome: 'restored', reason: same, ref };
  if (same) return { outcome: 'skipped', reason: same, ref };
  if (policy === 'skip')
    return {
      outcome: 'skipped',
      reason: 'already exists in the target (conflict policy skip)',
      ref,
    };
  if (policy === 'fail')
    return {
      outcome: 'failed',
      reason: 'already exists in the target (conflict policy fail)',
      ref,
    };
  const path = resourcePath(ref, obj.metadata.namespace, obj.metadata.name);
  return { outcome: 'replaced', live: await replace(http, path, obj), ref };
}

/** Dry run: reads only. Says whether the object would be created or would meet an existing one. */
export async function probeObject(
  http: KubeHttp,
  ref: ResourceRef,
  obj: KubeObject,
): Promise<Outcome> {
  try {
    await http.request('GET', resourcePath(ref, obj.metadata.namespace, obj.metadata.name));
    return 'would-conflict';
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return 'would-restore';
    throw error;
  }
}

/** Waits until a CRD reports Established, so its custom resources can be created. */
export async function waitEstablished(
  http: KubeHttp,
  name: string,
  timeoutMs = 30_000,
): Promise<void> {
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${pathSegment(name, 'CRD name')}`;
  const established = await poll(
    Deadline.after(timeoutMs),
    100,
    async () => {
      const crd = await http.request<{
        status?: { conditions?: { type: string; status: string }[] };
      }>('GET', path);
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    },
    { lookAtDeadline: false },
  );
  if (!established) throw new Error(`CRD ${name} not established after ${timeoutMs / 1000}s`);
}
