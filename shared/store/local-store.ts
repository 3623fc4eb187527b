import {
  link,
  mkdir,
  readFile,
  readdir,
  rename,
  stat,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NotFoundError, PermanentError } from '../errors.js';
import { assertKey, assertPrefix, type ObjectInfo, type ObjectStore } from './object-store.js';

const TEMP_DIR = '.tmp';

/** File system errors no retry can fix: the key names no file this store can hold. */
const PERMANENT_CODES = new Set([
  'ENAMETOOLONG',
  'ENOTDIR',
  'EISDIR',
  'EINVAL',
  'ERR_INVALID_ARG_VALUE',
]);

/** Objects as files under a root directory: for local mode, tests and the CLI. */
export class LocalStore implements ObjectStore {
  readonly url: string;

  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.url = pathToFileURL(root).href;
  }

  private path(key: string): string {
    assertKey(key);
    return this.inside(join(this.root, ...key.split('/')), key);
  }

  /** Every path this store touches lies under its root; anything else is refused. */
  private inside(path: string, what: string): string {
    const under = this.root.endsWith(sep) ? this.root : this.root + sep;
    if (path !== this.root && !path.startsWith(under)) {
      throw new PermanentError(`${JSON.stringify(what)} lies outside the store ${this.url}`);
    }
    return path;
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
    return this.publishIfAbsent(temp, key).catch((error: unknown) => {
      throw this.translate(error, key);
    });
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const target = this.path(key);
    const temp = await this.stage((p) => writeFile(p, body));
    try {
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw this.translate(error, key);
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async exists(key: string): Promise<boolean> {
    const path = this.path(key);
    try {
      return (await stat(path)).isFile();
    } catch (error) {
      // Only "no such file" means absent: callers decide on it (an expiring mark, a lease).
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw this.translate(error, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const base = this.inside(
      slash < 0 ? this.root : join(this.root, ...prefix.slice(0, slash).split('/')),
      prefix,
    );
    for await (const path of walk(base)) {
      const key = relative(this.root, path).split(sep).join('/');
      if (!key.startsWith(prefix) || key.startsWith(`${TEMP_DIR}/`)) continue;
      const info = await stat(path).catch(() => undefined);
      if (info) yield { key, size: info.size, updated: info.mtime };
    }
  }

  async touch(key: string): Promise<void> {
    const now = new Date();
    await utimes(this.path(key), now, now).catch((error: unknown) => {
      throw this.translate(error, key);
    });
  }

  async delete(key: string): Promise<void> {
    await unlink(this.path(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw this.translate(error, key);
    });
  }

  private translate(error: unknown, key: string): unknown {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return new NotFoundError(`Object "${key}" not found in ${this.url}`);
    }
    if (code !== undefined && PERMANENT_CODES.has(code)) {
      return new PermanentError(
        `Object ${JSON.stringify(key)} cannot be stored in ${this.url}: ${(error as Error).message}`,
        error,
      );
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
