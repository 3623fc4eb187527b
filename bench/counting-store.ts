import type { ObjectInfo, ObjectStore } from '../shared/store/object-store.js';

/** Wraps a store to count every byte written, catalogs and parts included. */
export class CountingStore implements ObjectStore {
  writtenBytes = 0;
  writes = 0;

  constructor(private readonly inner: ObjectStore) {}

  get url(): string {
    return this.inner.url;
  }

  async createIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    const created = await this.inner.createIfAbsent(key, body);
    if (created) this.count(body);
    return created;
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    await this.inner.put(key, body);
    this.count(body);
  }

  get(key: string): Promise<Buffer> {
    return this.inner.get(key);
  }

  exists(key: string): Promise<boolean> {
    return this.inner.exists(key);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  touch(key: string): Promise<void> {
    return this.inner.touch(key);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  private count(body: Buffer | string): void {
    this.writes += 1;
    this.writtenBytes += Buffer.byteLength(body);
  }
}
