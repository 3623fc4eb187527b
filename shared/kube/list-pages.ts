import type { ResourceRef } from '../messages/backup.js';
import { KubeApiError, resourcePath, type KubeHttp } from './kube-http.js';
import type { KubeObject } from './sanitize.js';

interface ListPage {
  items: KubeObject[];
  metadata: { continue?: string; resourceVersion?: string };
}

/** Where a listing stopped: the continue token and the last object's key. */
export interface ListPosition {
  continueToken?: string;
  afterKey?: string;
}

/** etcd's order: by namespace, then name. */
export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace
    ? `${obj.metadata.namespace}/${obj.metadata.name}`
    : obj.metadata.name;
}

/**
 * Streams a paginated LIST one page at a time, fetching the next page while
 * the caller works on the current one; memory holds at most two pages. An
 * expired continue token (410 Gone) restarts the LIST and skips every object
 * up to the last key seen, so nothing is lost or duplicated.
 */
export async function* listPages(
  http: KubeHttp,
  ref: ResourceRef,
  options: { limit: number; labelSelector?: string; start?: ListPosition },
): AsyncGenerator<{ items: KubeObject[]; position: ListPosition; restarts: number }> {
  let afterKey = options.start?.afterKey;
  let restarts = 0;
  let token: string | undefined;
  const fetchPage = async (continueToken: string | undefined): Promise<ListPage> => {
    try {
      return await http.request<ListPage>('GET', resourcePath(ref), {
        query: {
          limit: options.limit,
          continue: continueToken,
          labelSelector: options.labelSelector,
        },
      });
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 410 && continueToken) {
        return { items: [], metadata: { continue: '\u0000restart' } };
      }
      throw error;
    }
  };
  let next: Promise<ListPage> | undefined = fetchPage(options.start?.continueToken);
  while (next) {
    const page: ListPage = await next;
    if (page.metadata.continue === '\u0000restart') {
      restarts += 1;
      next = fetchPage(undefined);
      continue;
    }
    token = page.metadata.continue || undefined;
    next = token ? fetchPage(token) : undefined;
    next?.catch(() => undefined);
    const items =
      afterKey === undefined ? page.items : page.items.filter((o) => objectKey(o) > afterKey!);
    const last = page.items.at(-1);
    if (last)
      afterKey = afterKey === undefined || objectKey(last) > afterKey ? objectKey(last) : afterKey;
    yield { items, position: { continueToken: token, afterKey }, restarts };
  }
}
