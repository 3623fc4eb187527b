import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sealer } from '../crypto/sealer.js';
import { errorMessage, NotFoundError } from '../errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { HttpError } from './http-error.js';
import { html, type SafeHtml } from './html.js';
import { DOCUMENT_END, documentOf, documentStart, type Page } from './layout.js';
import { PackCache } from './pack-cache.js';
import { route } from './router.js';
import { errorView } from './views/error-view.js';

export interface UiOptions {
  store: ObjectStore;
  /** The store's data key, to list a Secret's keys and verify seals; never to show values. */
  sealer?: Sealer;
  now?: () => Date;
}

/** Stored (gzipped) bytes of packs kept between requests: a search re-reads none of them. */
const PACK_CACHE_BYTES = 64 * 1024 * 1024;

/** A request's URL; the host is irrelevant (links are absolute paths), so a fixed one is used. */
const urlOf = (req: IncomingMessage): URL => new URL(req.url ?? '/', 'http://lifeboat.invalid');

function pageForError(error: unknown): Page {
  if (error instanceof HttpError) return errorView(error.status, error.message);
  if (error instanceof NotFoundError) return errorView(404, error.message);
  return errorView(500, errorMessage(error));
}

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // The page reads a store that changes: never served from a cache.
  'cache-control': 'no-store',
  // Inline style only; no script, no frame, no form posting elsewhere.
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function send(
  res: ServerResponse,
  page: Page,
  headOnly: boolean,
  extra: Record<string, string> = {},
): void {
  const body = Buffer.from(documentOf(page), 'utf8');
  res.writeHead(page.status, { ...HEADERS, 'content-length': String(body.length), ...extra });
  res.end(headOnly ? undefined : body);
}

/** What stands where a page's rest could not be read: the reason, in the page's own flow. */
const restFailed = (error: unknown): string =>
  html`<section class="bad" role="alert">
    <h2>This part of the page could not be read</h2>
    <p>${errorMessage(error)}</p>
  </section>`.toString();

/**
 * A page with a rest: what is ready is sent and painted at once; the rest
 * follows in the same response, or, when it cannot be read, the reason
 * where it would have stood (the status is already sent).
 */
async function stream(res: ServerResponse, page: Page, rest: Promise<SafeHtml>): Promise<void> {
  res.writeHead(page.status, HEADERS);
  res.write(documentStart(page));
  let tail: string;
  try {
    tail = (await rest).toString();
  } catch (error) {
    tail = restFailed(error);
  }
  res.end(tail + DOCUMENT_END);
}

/**
 * The read-only catalog browser as one request handler on plain node:http
 * types, so `lifeboat ui` and the HTTP function serve the same pages. Only
 * GET (and HEAD) are answered; nothing here writes to the store.
 */
export function createUiHandler(
  options: UiOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const now = options.now ?? (() => new Date());
  const packs = new PackCache(PACK_CACHE_BYTES);
  return async (req, res) => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      send(
        res,
        errorView(405, `${method} is not allowed: this page is read-only (GET only)`),
        false,
        {
          allow: 'GET, HEAD',
        },
      );
      return;
    }
    let page: Page;
    try {
      page = await route(urlOf(req), {
        store: options.store,
        sealer: options.sealer,
        now: now(),
        packs,
      });
    } catch (error) {
      page = pageForError(error);
    }
    if (!page.rest) return send(res, page, method === 'HEAD');
    if (method === 'GET') return stream(res, page, page.rest);
    // HEAD: the rest is not waited for, and its failure is nobody's to report.
    page.rest.catch(() => undefined);
    res.writeHead(page.status, HEADERS);
    res.end();
  };
}
