import { NotFoundError, PermanentError } from '../errors.js';

export interface ObjectInfo {
  key: string;
  size: number;
  updated: Date;
}

/**
 * Where catalogs, objects and reports live: Cloud Storage in production, a
 * directory in local mode. Keys are `/`-separated and never start with `/`.
 */
export interface ObjectStore {
  /** A URL that reopens this store (`gs://bucket/prefix`, `file:///dir`). */
  readonly url: string;
  /**
   * Writes the object only if no object has the key yet; returns false, and
   * changes nothing, when one already exists. This is how idempotent writes
   * and the atomic "catalog written last" work.
   */
  createIfAbsent(key: string, body: Buffer | string): Promise<boolean>;
  /** Writes or overwrites an object. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** Reads a whole object; throws NotFoundError when absent. */
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * Marks an existing object as just written (its `updated` time) without
   * rewriting it: a pack found in the store and reused is made young, so
   * retention's grace keeps it. Throws NotFoundError when absent.
   */
  touch(key: string): Promise<void>;
  /** Deletes an object; deleting an absent one is not an error. */
  delete(key: string): Promise<void>;
}

/** An object's bytes, or undefined when the store has no object under the key. */
export async function getIfPresent(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  try {
    return await store.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** Longest key in UTF-8 bytes: Cloud Storage's limit on object names. */
export const MAX_KEY_BYTES = 1024;

/**
 * A key Lifeboat may read or write: not empty, relative (no leading '/'),
 * no '.' or '..' segment, no NUL or other control character, at most
 * MAX_KEY_BYTES. A bad key is a bug or a hostile message, never a passing
 * fault: the error is permanent.
 */
export function assertKey(key: string): void {
  const problem = key === '' ? 'is empty' : pathProblem(key);
  if (problem) throw new PermanentError(`Invalid object key ${JSON.stringify(key)}: ${problem}`);
}

/**
 * A prefix to list under: '' (everything) or what assertKey accepts, where
 * a trailing '/' is allowed.
 */
export function assertPrefix(prefix: string): void {
  const problem = prefix === '' ? undefined : pathProblem(prefix);
  if (problem) {
    throw new PermanentError(`Invalid object prefix ${JSON.stringify(prefix)}: ${problem}`);
  }
}

function pathProblem(path: string): string | undefined {
  if (path.startsWith('/')) return "starts with '/'";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'holds a NUL or control character';
  if (path.split('/').some((p) => p === '..' || p === '.')) return "has a '.' or '..' segment";
  if (Buffer.byteLength(path, 'utf8') > MAX_KEY_BYTES)
    return `is longer than ${MAX_KEY_BYTES} bytes`;
  return undefined;
}

/**
 * An object read back as JSON. Bytes that do not parse are a corrupted
 * object: reading it again gives the same bytes, so the error is permanent.
 */
export function parseStoredJson(body: Buffer, key: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new PermanentError(
      `Corrupted object ${JSON.stringify(key)}: not valid JSON (${(error as Error).message})`,
      error,
    );
  }
}
