import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What every stand-in of a Google API is underneath: an HTTP server on
 * 127.0.0.1, on a port the system picks, that hands each request to the
 * stand-in. A stand-in's static `start` builds it and awaits `listen`.
 */
export abstract class LoopbackStandin {
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private port = 0;

  protected abstract handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;

  /** Starts serving; `url` and `host` hold from then on. */
  protected async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** `127.0.0.1:PORT` */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    return `http://${this.host}`;
  }

  /** Closes the server and the connections clients keep alive, so the caller's process can end. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** How many calls of each API method a stand-in has answered. */
export class CallCounts<M extends string> {
  private readonly counts = new Map<M, number>();

  add(method: M): void {
    this.counts.set(method, (this.counts.get(method) ?? 0) + 1);
  }

  of(method: M): number {
    return this.counts.get(method) ?? 0;
  }

  clear(): void {
    this.counts.clear();
  }

  /** Every method called so far, with its count. */
  toRecord(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/**
 * Failures a test queues: the next `count` calls (of one method, or of
 * any) fail with `code`, in the order they were queued.
 */
export class FaultQueue<M extends string, C> {
  private readonly queued: { remaining: number; code: C; method: M | undefined }[] = [];

  add(count: number, code: C, method?: M): void {
    this.queued.push({ remaining: count, code, method });
  }

  /** The code a call of `method` must fail with, if a queued fault is due; that fault counts it. */
  take(method: M): C | undefined {
    const fault = this.queued.find((f) => f.method === undefined || f.method === method);
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.queued.splice(this.queued.indexOf(fault), 1);
    return fault.code;
  }

  clear(): void {
    this.queued.length = 0;
  }
}

/** A request's whole body as UTF-8 text ('' when it has none). */
export async function readRequestText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers with `status` and a JSON body, with the content type Google's REST APIs send. */
export function sendJson(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(json);
}
