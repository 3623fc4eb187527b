import { HttpError } from './http-error.js';
import type { Page } from './layout.js';
import {
  clustersPage,
  contentsPage,
  diffPage,
  objectPage,
  restorePage,
  restoresPage,
  timelinePage,
  type PageContext,
} from './pages.js';
import { clusterParam, idParam, textParam } from './params.js';

/** The path's segments, decoded; a malformed escape is a 400, not a crash. */
function segmentsOf(pathname: string): string[] {
  try {
    return pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError(400, `the path ${pathname} holds a malformed %-escape`);
  }
}

/** Which page a URL names, with its parameters checked; an unknown path is a 404. */
export async function route(url: URL, ctx: PageContext): Promise<Page> {
  const s = segmentsOf(url.pathname);
  const q = url.searchParams;
  const [first, key, third, id, fifth] = s;
  if (s.length === 0) return clustersPage(ctx);
  if (first === 'restores' && s.length === 1) return restoresPage(ctx);
  if (first === 'restores' && s.length === 2) return restorePage(ctx, idParam(key, 'restore id'));
  if (first === 'clusters' && key !== undefined) {
    if (s.length === 2) return timelinePage(ctx, clusterParam(key));
    if (third === 'diff' && s.length === 3) {
      const [from, to] = [idParam(q.get('from'), 'from'), idParam(q.get('to'), 'to')];
      if (from === to) throw new HttpError(400, `from and to are the same backup (${from})`);
      return diffPage(ctx, clusterParam(key), from, to);
    }
    if (third === 'backups' && s.length === 4) {
      return contentsPage(ctx, clusterParam(key), idParam(id, 'backup id'), q.get('q') ?? '');
    }
    if (third === 'backups' && fifth === 'objects' && s.length === 5) {
      return objectPage(ctx, clusterParam(key), idParam(id, 'backup id'), {
        resource: textParam(q.get('resource'), 'resource'),
        namespace: q.get('namespace') || undefined,
        name: textParam(q.get('name'), 'name'),
      });
    }
  }
  throw new HttpError(404, `no page at ${url.pathname}`);
}
