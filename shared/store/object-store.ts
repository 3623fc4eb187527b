import type { Readable } from 'node:stream';

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
  /** Streaming version of createIfAbsent, for large objects. */
  createIfAbsentFromStream(key: string, body: Readable): Promise<boolean>;
  /** Writes or overwrites an object. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** Reads a whole object; throws NotFoundError when absent. */
  get(key: string): Promise<Buffer>;
  /** Streams an object; throws NotFoundError when absent. */
  openRead(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deletes an object; deleting an absent one is not an error. */
  delete(key: string): Promise<void>;
}

export function assertKey(key: string): void {
  if (key === '' || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.')) {
    throw new Error(`Invalid object key "${key}"`);
  }
}
