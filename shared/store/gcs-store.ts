import type { Bucket, File, Storage } from '@google-cloud/storage';
import { NotFoundError, statusOf, TransientError } from '../errors.js';
import { assertKey, assertPrefix, type ObjectInfo, type ObjectStore } from './object-store.js';

/** Objects in a Cloud Storage bucket under an optional prefix. */
const TOUCHED = 'lifeboat-touched';

/** When an object was last written, or touched (see touch). */
function lastWritten(metadata: { updated?: unknown; metadata?: unknown }): Date {
  const updated = Date.parse(String(metadata.updated ?? 0));
  const custom = (metadata.metadata ?? {}) as Record<string, unknown>;
  const touched = Date.parse(String(custom[TOUCHED] ?? ''));
  return new Date(Number.isNaN(touched) ? updated : Math.max(updated, touched));
}

export class GcsStore implements ObjectStore {
  readonly url: string;
  private readonly bucket: Bucket;

  constructor(
    storage: Storage,
    bucketName: string,
    private readonly prefix = '',
  ) {
    this.bucket = storage.bucket(bucketName);
    this.url = `gs://${bucketName}${prefix ? `/${prefix.replace(/\/$/, '')}` : ''}`;
  }

  private name(key: string): string {
    assertKey(key);
    return this.prefix ? `${this.prefix.replace(/\/$/, '')}/${key}` : key;
  }

  async createIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    const file = this.bucket.file(this.name(key));
    try {
      // ifGenerationMatch=0 makes the write conditional on the object not existing.
      await file.save(body, { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
      return true;
    } catch (error) {
      if (statusOf(error) === 412) return false;
      throw this.translate(error, key);
    }
  }

  /** One call on the object at `key`, its failure translated (see translate). */
  private async onFile<T>(key: string, call: (file: File) => Promise<T>): Promise<T> {
    const file = this.bucket.file(this.name(key));
    try {
      return await call(file);
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    await this.onFile(key, (file) => file.save(body, { resumable: false }));
  }

  async get(key: string): Promise<Buffer> {
    const [contents] = await this.onFile(key, (file) => file.download());
    return contents;
  }

  async exists(key: string): Promise<boolean> {
    const [found] = await this.onFile(key, (file) => file.exists());
    return found;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertPrefix(prefix);
    const strip = this.prefix ? this.prefix.replace(/\/$/, '').length + 1 : 0;
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.bucket.getFiles({
        prefix: this.prefix ? `${this.prefix.replace(/\/$/, '')}/${prefix}` : prefix,
        autoPaginate: false,
        maxResults: 1000,
        ...(pageToken ? { pageToken } : {}),
      });
      for (const file of files) {
        yield {
          key: file.name.slice(strip),
          size: Number(file.metadata.size ?? 0),
          updated: lastWritten(file.metadata),
        };
      }
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  async touch(key: string): Promise<void> {
    // A metadata update (storage.objects.update), no rewrite of the bytes; list() reads the mark,
    // since not every server moves `updated` on a metadata change (fake-gcs-server does not).
    try {
      await this.bucket
        .file(this.name(key))
        .setMetadata({ metadata: { [TOUCHED]: new Date().toISOString() } });
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async delete(key: string): Promise<void> {
    await this.bucket.file(this.name(key)).delete({ ignoreNotFound: true });
  }

  private translate(error: unknown, key: string): unknown {
    const status = statusOf(error);
    if (status === 404) return new NotFoundError(`Object "${key}" not found in ${this.url}`, error);
    if (status === undefined || status === 429 || status >= 500) {
      return new TransientError(`Cloud Storage failed on "${key}" in ${this.url}`, error);
    }
    return error;
  }
}
