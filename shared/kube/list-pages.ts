import type { ResourceRef } from '../messages/backup.js';
import { PermanentError } from '../errors.js';
import { KubeApiError, ResponseTooLargeError, resourcePath, type KubeHttp } from './kube-http.js';
import type { KubeObject } from './sanitize.js';

interface ListPage {
  items: KubeObject[];
  metadata: { continue?: string; resourceVersion?: string };
}

/** Where a listing stopped: the continue token and the last object's key. */
export interface ListPosition {
  continueToken?: string;
  afterKey?: string;
  /** A listing namespace by namespace: the namespace the token and key belong to. */
  namespace?: string;
  /** False once any page of this listing was read at another revision than the one asked. */
  atRevision?: boolean;
}

/** etcd's order: by namespace, then name. */
export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace
    ? `${obj.metadata.namespace}/${obj.metadata.name}`
    : obj.metadata.name;
}

/** A page whose JSON passes this halves the limit of the next one. */
export const PAGE_BYTES_BUDGET = 8 * 1024 * 1024;
/** A response is abandoned past this and asked again with a quarter of the limit. */
export const PAGE_BYTES_MAX = 2 * PAGE_BYTES_BUDGET;
/**
 * No single object may be larger (etcd refuses requests over 1.5 MiB, so the
 * API server cannot hold one); a LIST of one object past it is refused.
 */
export const OBJECT_BYTES_MAX = 3 * 1024 * 1024;

/**
 * Streams a paginated LIST one page at a time, fetching the next page while
 * the caller works on the current one; memory holds at most two pages. An
 * expired continue token (410 Gone) restarts the LIST and skips every object
 * up to the last key seen, so nothing is lost or duplicated.
 *
 * Pages are bounded in bytes as well as objects: the limit starts at
 * `options.limit`, halves after a page of more than PAGE_BYTES_BUDGET and
 * grows back after small ones; a response past PAGE_BYTES_MAX is abandoned
 * while it is read and asked again with a smaller limit, and a single object
 * past OBJECT_BYTES_MAX is refused. A page's JSON is thus never more than
 * PAGE_BYTES_MAX.
 */
export async function* listPages(
  http: KubeHttp,
  ref: ResourceRef,
  options: {
    limit: number;
    labelSelector?: string;
    start?: ListPosition;
    /** List at exactly this etcd revision while it lasts (see below). */
    revision?: string;
    /** Only this namespace's objects (a namespaced resource). */
    namespace?: string;
  },
): AsyncGenerator<{ items: KubeObject[]; position: ListPosition; restarts: number }> {
  let afterKey = options.start?.afterKey;
  let restarts = 0;
  let token: string | undefined;
  const maxLimit = Math.max(1, options.limit);
  let limit = maxLimit;
  // A point in time: the first page asks for exactly `revision` and every later page follows
  // its continue token, which carries that revision. Once the revision is compacted (410 on
  // the first page or on a token), or the server does not list at it (an aggregated API
  // served outside etcd answers at another revision, or refuses the parameters), the listing
  // goes on at the latest revision and says so: `atRevision` is false from then on.
  let atRevision = options.revision !== undefined && options.start?.atRevision !== false;
  const path = resourcePath(ref, options.namespace);
  const fetchPage = async (continueToken: string | undefined): Promise<ListPage> => {
    for (;;) {
      let bytes = 0;
      const exact = atRevision && continueToken === undefined;
      try {
        const page = await http.request<ListPage>('GET', path, {
          query: {
            limit,
            continue: continueToken,
            labelSelector: options.labelSelector,
            ...(exact ? { resourceVersion: options.revision, resourceVersionMatch: 'Exact' } : {}),
          },
          maxBytes: limit === 1 ? OBJECT_BYTES_MAX : PAGE_BYTES_MAX,
          onBytes: (n) => (bytes = n),
        });
        if (exact && page.metadata?.resourceVersion !== options.revision) atRevision = false;
        if (bytes > PAGE_BYTES_BUDGET) limit = Math.max(1, Math.floor(limit / 2));
        else if (bytes < PAGE_BYTES_BUDGET / 4 && (page.items?.length ?? 0) >= limit)
          limit = Math.min(maxLimit, limit * 2);
        return page;
      } catch (error) {
        if (error instanceof ResponseTooLargeError) {
          if (limit === 1) {
            throw new PermanentError(
              `${ref.resource}${ref.group ? `.${ref.group}` : ''}: an object is larger than ${OBJECT_BYTES_MAX} bytes, more than the API server can store; refused rather than buffered`,
              error,
            );
          }
          limit = Math.max(1, Math.floor(limit / 4));
          continue;
        }
        if (error instanceof KubeApiError && error.status === 410 && continueToken) {
          return { items: [], metadata: { continue: '\u0000restart' } };
        }
        if (exact && error instanceof KubeApiError && [400, 410, 422].includes(error.status)) {
          atRevision = false;
          continue;
        }
        throw error;
      }
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
    yield {
      items,
      position: {
        ...(token !== undefined ? { continueToken: token } : {}),
        ...(afterKey !== undefined ? { afterKey } : {}),
        ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
        ...(options.revision !== undefined ? { atRevision } : {}),
      },
      restarts,
    };
  }
}
