import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errors.js';
import { assertKey, type ObjectInfo, type ObjectStore } from './object-store.js';

const TEMP_DIR = '.tmp';

/** Objects as files under a root directory: for local mode, tests and the CLI. */
export class LocalStore implements ObjectStore {
  readonly url: string;

  constructor(private readonly root: string) {
    this.url = pathToFileURL(root).href;
  }

  private path(key: string): string {
    assertKey(key);
    return join(this.root, ...key.split('/'));
  }

  /** Writes to a temp file first so readers never see half an object. */
  private async stage(write: (tempPath: string) => Promise<void>): Promise<string> {
    const dir = join(this.root, TEMP_DIR);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, randomBytes(12).toString('hex'));
    await write(temp);
    return temp;
  }

  /** link() fails with EEXIST when the name is taken: an atomic create-if-absent. */
  private async publishIfAbsent(temp: string, key: string): Promise<boolean> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    try {
      await link(temp, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async createIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    if (await this.exists(key)) return false;
    const temp = await this.stage((p) => writeFile(p, body));
    return this.publishIfAbsent(temp, key);
  }

  async createIfAbsentFromStream(key: string, body: Readable): Promise<boolean> {
    const temp = await this.stage((p) => pipeline(body, createWriteStream(p)));
    return this.publishIfAbsent(temp, key);
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const target = this.path(key);
    const temp = await this.stage((p) => writeFile(p, body));
    await mkdir(dirname(target), { recursive: true });
    await rename(temp, target);
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async openRead(key: string): Promise<Readable> {
    const path = this.path(key);
    try {
      await stat(path);
    } catch (error) {
      throw this.translate(error, key);
    }
    return createReadStream(path);
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.path(key))).isFile();
    } catch {
      return false;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? this.root : join(this.root, ...prefix.slice(0, slash).split('/'));
    for await (const path of walk(base)) {
      const key = relative(this.root, path).split(sep).join('/');
      if (!key.startsWith(prefix) || key.startsWith(`${TEMP_DIR}/`)) continue;
      const info = await stat(path).catch(() => undefined);
      if (info) yield { key, size: info.size, updated: info.mtime };
    }
  }

  async delete(key: string): Promise<void> {
    await unlink(this.path(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  private translate(error: unknown, key: string): unknown {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return new NotFoundError(`Object "${key}" not found in ${this.url}`);
    }
    return error;
  }
}

async function* walk(dir: string): AsyncIterable<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}
