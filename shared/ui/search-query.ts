import { HttpError } from './http-error.js';

/** A contents search: every term must match (name substrings and label equalities). */
export interface SearchQuery {
  names: string[];
  labels: { key: string; value: string }[];
}

const LABEL_KEY =
  /^([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/**
 * `?q=` of the contents page: whitespace-separated terms; `key=value` is a
 * label that must be set to that value, anything else a part of the name.
 * A malformed label term is a 400 naming the term, not an empty result.
 */
export function parseSearchQuery(q: string | null | undefined): SearchQuery {
  const query: SearchQuery = { names: [], labels: [] };
  for (const term of (q ?? '').split(/\s+/).filter((t) => t !== '')) {
    const eq = term.indexOf('=');
    if (eq < 0) {
      query.names.push(term.toLowerCase());
      continue;
    }
    const key = term.slice(0, eq);
    const value = term.slice(eq + 1).replace(/^=/, '');
    if (!LABEL_KEY.test(key)) {
      throw new HttpError(400, `search term "${term}": "${key}" is not a label key (e.g. app=web)`);
    }
    if (!LABEL_VALUE.test(value)) {
      throw new HttpError(400, `search term "${term}": "${value}" is not a label value`);
    }
    query.labels.push({ key, value });
  }
  return query;
}

/** Whether an object matches every term of the query. */
export function matchesQuery(
  query: SearchQuery,
  object: { name: string; labels?: Readonly<Record<string, string>> | undefined },
): boolean {
  const name = object.name.toLowerCase();
  return (
    query.names.every((n) => name.includes(n)) &&
    query.labels.every((l) => object.labels?.[l.key] === l.value)
  );
}

export const isEmptyQuery = (query: SearchQuery): boolean =>
  query.names.length === 0 && query.labels.length === 0;
