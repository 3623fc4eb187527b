import { isDeepStrictEqual } from 'node:util';
import type { ResourceRef } from '../messages/backup.js';
import { errorMessage } from '../errors.js';
import { KubeApiError, resourcePath, type KubeHttp } from '../kube/kube-http.js';
import type { KubeObject } from '../kube/sanitize.js';

const CONFLICT_RETRIES = 4;

/**
 * Puts a custom resource's backed-up status back after its create. With a
 * status subresource the create ignored the status it was given, so it goes
 * through /status; without one the create kept it and nothing is left to
 * do. Returns what went wrong, or undefined.
 */
export async function restoreStatus(
  http: KubeHttp,
  ref: ResourceRef,
  obj: KubeObject,
  status: unknown,
  created: KubeObject | undefined,
): Promise<string | undefined> {
  const path = resourcePath(ref, obj.metadata.namespace, obj.metadata.name);
  let live = created;
  for (let attempt = 1; ; attempt++) {
    try {
      live ??= await http.request<KubeObject>('GET', path);
    } catch (error) {
      return `created, but its status could not be restored: ${errorMessage(error)}`;
    }
    if (isDeepStrictEqual(live['status'], status)) return undefined;
    try {
      await http.request('PUT', `${path}/status`, { body: { ...live, status } });
      return undefined;
    } catch (error) {
      // A controller in the target wrote the object in between: read it again and retry.
      if (error instanceof KubeApiError && error.status === 409 && attempt < CONFLICT_RETRIES) {
        live = undefined;
        continue;
      }
      if (error instanceof KubeApiError && error.status === 404) {
        // No status subresource, and an earlier attempt created the object: the main resource.
        try {
          await http.request('PUT', path, { body: { ...live, status } });
          return undefined;
        } catch (again) {
          return `created, but its status could not be restored: ${errorMessage(again)}`;
        }
      }
      return `created, but its status could not be restored: ${errorMessage(error)}`;
    }
  }
}
