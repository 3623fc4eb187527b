import { TransientError } from '../shared/errors.js';
import type { ObjectInfo, ObjectStore } from '../shared/store/object-store.js';

/** Thrown by an injected kill: the process stopped here, mid-operation. */
export class Killed extends Error {}

type Op = 'get' | 'create' | 'delete' | 'list';

/** One armed fault: which operation on which keys, how it fails, and how many times. */
export interface Fault {
  op: Op;
  keys: (key: string) => boolean;
  /** `transient` fails before acting; `lost-reply` acts, then fails; `kill` throws Killed before acting. */
  mode: 'transient' | 'lost-reply' | 'kill';
  /** Matching calls to let through before failing. */
  after?: number;
  times?: number;
}

/**
 * A real store with faults injected on demand: a read that fails
 * transiently, an upload whose reply is lost, a process killed between two
 * deletes. Everything else goes straight through to the store underneath.
 */
export class FaultyStore implements ObjectStore {
  private faults: (Fault & { seen: number; fired: number })[] = [];

  constructor(readonly inner: ObjectStore) {}

  get url(): string {
    return this.inner.url;
  }

  arm(fault: Fault): void {
    this.faults.push({ ...fault, seen: 0, fired: 0 });
  }

  disarm(): void {
    this.faults = [];
  }

  private async guard<T>(op: Op, key: string, act: () => Promise<T>): Promise<T> {
    const fault = this.faults.find((f) => f.op === op && f.keys(key) && f.fired < (f.times ?? 1));
    if (!fault || fault.seen++ < (fault.after ?? 0)) return act();
    fault.fired += 1;
    if (fault.mode === 'kill') throw new Killed(`killed before ${op} ${key}`);
    if (fault.mode === 'transient') throw new TransientError(`injected: ${op} ${key} failed`);
    await act();
    throw new TransientError(`injected: ${op} ${key} succeeded but its reply was lost`);
  }

  createIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    return this.guard('create', key, () => this.inner.createIfAbsent(key, body));
  }

  put(key: string, body: Buffer | string): Promise<void> {
    return this.inner.put(key, body);
  }

  get(key: string): Promise<Buffer> {
    return this.guard('get', key, () => this.inner.get(key));
  }

  exists(key: string): Promise<boolean> {
    return this.inner.exists(key);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    await this.guard('list', prefix, async () => undefined);
    yield* this.inner.list(prefix);
  }

  touch(key: string): Promise<void> {
    return this.inner.touch(key);
  }

  delete(key: string): Promise<void> {
    return this.guard('delete', key, () => this.inner.delete(key));
  }
}
