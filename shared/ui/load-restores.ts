import { Layout } from '../catalog/layout.js';
import { mapLimit } from '../concurrency.js';
import { errorMessage, NotFoundError, PermanentError } from '../errors.js';
import type { RestoreReport } from '../restore/report.js';
import { parseStoredJson, type ObjectStore } from '../store/object-store.js';
import { HttpError } from './http-error.js';

export type RestoreListing =
  | { restoreId: string; report: RestoreReport }
  | { restoreId: string; inProgress: true }
  | { restoreId: string; error: string };

/** A restore report read from the store, checked to be one before any field is used. */
export async function readRestoreReport(
  store: ObjectStore,
  restoreId: string,
): Promise<RestoreReport> {
  const key = Layout.report(restoreId);
  let body: Buffer;
  try {
    body = await store.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) {
      const running = await store.exists(Layout.restoreProgress(restoreId));
      throw new HttpError(
        404,
        running
          ? `restore "${restoreId}" has no report yet: it is still running`
          : `restore "${restoreId}" not found in ${store.url}`,
      );
    }
    throw error;
  }
  const value = parseStoredJson(body, key) as Partial<RestoreReport> | null;
  if (
    value?.kind !== 'RestoreReport' ||
    typeof value.restoreId !== 'string' ||
    !Array.isArray(value.outcomes) ||
    typeof value.counts !== 'object'
  ) {
    throw new PermanentError(`${key} is not a restore report (kind, restoreId, counts, outcomes)`);
  }
  return value as RestoreReport;
}

/** Every restore in the store, newest first; one still running has no report yet. */
export async function loadRestores(store: ObjectStore): Promise<RestoreListing[]> {
  const hasReport = new Map<string, boolean>();
  for await (const info of store.list('restores/')) {
    const m = /^restores\/([^/]+)\/(report|progress)\.json$/.exec(info.key);
    if (m?.[1]) hasReport.set(m[1], hasReport.get(m[1]) === true || m[2] === 'report');
  }
  const listings = await mapLimit([...hasReport], 8, async ([restoreId, reported]) => {
    if (!reported) return { restoreId, inProgress: true as const };
    try {
      return { restoreId, report: await readRestoreReport(store, restoreId) };
    } catch (error) {
      return { restoreId, error: errorMessage(error) };
    }
  });
  const started = (l: RestoreListing): string => ('report' in l ? l.report.startedAt : '~');
  return listings.sort((a, b) => started(b).localeCompare(started(a)));
}
