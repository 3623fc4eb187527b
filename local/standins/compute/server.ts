import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  computeClientOptions,
  type ComputeClientOptions,
} from '../../../shared/disks/compute-client-options.js';
import {
  ComputeState,
  type ComputeFaults,
  type DiskAddress,
  type SeedDisk,
  type SeedSnapshot,
} from './compute-state.js';
import { ApiFailure, apiError, type ApiError, type Json } from './shapes.js';

export type { ComputeFaults, DiskAddress, SeedDisk, SeedSnapshot } from './compute-state.js';

/**
 * A Compute Engine stand-in on 127.0.0.1: the compute/v1 REST endpoints
 * Lifeboat's disks code uses, with the real request and response shapes, so
 * the real `@google-cloud/compute` client can be tested against it. There is
 * no Compute Engine emulator anywhere.
 *
 * Served: projects.get, regions.get, snapshots.insert/get/delete (global),
 * disks.insert/get/delete (zonal), regionDisks.insert/get/delete, and get/wait of global,
 * zone and region operations. Anything else answers 404 and is counted under
 * "unsupported", so a test can prove nothing unexpected was called.
 */
export class ComputeStandin {
  readonly state = new ComputeState();
  private readonly counts = new Map<string, number>();
  private readonly holds = new Map<string, Hold>();
  private readonly failures = new Map<string, { remaining: number; error: ApiError }>();
  /** How long operations.wait blocks before answering, like the real one (which blocks up to 2 minutes). */
  waitDelayMs = 5;

  private readonly server: Server = createServer((req, res) => void this.handle(req, res));
  private address = '';

  private constructor() {}

  static async start(): Promise<ComputeStandin> {
    const standin = new ComputeStandin();
    await new Promise<void>((resolve) => standin.server.listen(0, '127.0.0.1', resolve));
    const { port } = standin.server.address() as AddressInfo;
    standin.address = `http://127.0.0.1:${port}`;
    return standin;
  }

  /** http://127.0.0.1:PORT */
  get url(): string {
    return this.address;
  }

  /** Options that point the real client at this stand-in (see computeClientOptions). */
  clientOptions(): ComputeClientOptions {
    return computeClientOptions(this.url);
  }

  async stop(): Promise<void> {
    for (const hold of this.holds.values()) hold.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- test controls ----

  seedDisk(disk: SeedDisk): void {
    this.state.seedDisk(disk);
  }

  /** A READY snapshot made outside the API; without labels unless given (not Lifeboat's). */
  seedSnapshot(snapshot: SeedSnapshot): void {
    this.state.seedSnapshot(snapshot);
  }

  /** Whether the snapshot exists (in any status, DELETING included). */
  hasSnapshot(project: string, name: string): boolean {
    return this.state.snapshotRecord(project, name) !== undefined;
  }

  /** Names of the project's snapshots, sorted. */
  snapshotNames(project: string): string[] {
    return this.state
      .allSnapshots()
      .filter((s) => s.project === project)
      .map((s) => s.name)
      .sort();
  }

  /** The bytes a disk holds; throws if there is no such disk. */
  readDisk(address: DiskAddress): Buffer {
    const disk = this.state.diskRecord(address);
    if (!disk) throw new Error(`stand-in: no disk ${JSON.stringify(address)}`);
    return Buffer.from(disk.bytes);
  }

  /** Replaces a disk's bytes, as a workload writing to it would. */
  writeDisk(address: DiskAddress, bytes: Buffer): void {
    const disk = this.state.diskRecord(address);
    if (!disk) throw new Error(`stand-in: no disk ${JSON.stringify(address)}`);
    disk.bytes = Buffer.from(bytes);
  }

  setFaults(faults: ComputeFaults): void {
    this.state.faults = { ...faults };
  }

  clearFaults(): void {
    this.state.faults = {};
  }

  /** Calls of one method, e.g. "snapshots.insert" or "zoneOperations.wait". */
  callCount(method: string): number {
    return this.counts.get(method) ?? 0;
  }

  calls(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  resetCounts(): void {
    this.counts.clear();
    this.state.created.snapshots = 0;
    this.state.created.disks = 0;
    this.state.deleted.snapshots = 0;
    this.state.deleted.disks = 0;
  }

  /**
   * Holds requests of `method` until released, so a test can line up two
   * concurrent deliveries at the same point (both past their "does it exist?"
   * look, both about to insert) and make the race deterministic.
   */
  hold(method: string): Hold {
    const hold = new Hold();
    this.holds.set(method, hold);
    return hold;
  }

  /**
   * The next `count` calls of `method` (e.g. "snapshots.insert") answer
   * `error` without doing anything: by default 503 backendError, the
   * transient failure the real API answers now and then; a 429
   * rateLimitExceeded is another. Counted in callCount like any call.
   */
  failNext(
    method: string,
    count: number,
    error: ApiError = apiError(503, 'backendError', 'The service is currently unavailable.'),
  ): void {
    this.failures.set(method, { remaining: count, error });
  }

  /** Injected failures of `method` not yet answered. */
  pendingFailures(method: string): number {
    return this.failures.get(method)?.remaining ?? 0;
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', this.url);
    const route = routeOf(req.method ?? 'GET', url.pathname);
    this.counts.set(route.method, (this.counts.get(route.method) ?? 0) + 1);
    const hold = this.holds.get(route.method);
    if (hold) await hold.enter();
    if (route.method.endsWith('Operations.wait'))
      await new Promise((r) => setTimeout(r, this.waitDelayMs));
    let status = 200;
    let payload: Json;
    const injected = this.failures.get(route.method);
    try {
      if (injected && injected.remaining > 0) {
        injected.remaining -= 1;
        throw new ApiFailure(injected.error);
      }
      payload = route.run(this.state, body);
    } catch (error) {
      const failure =
        error instanceof ApiFailure ? error.error : apiError(500, 'backendError', String(error));
      status = failure.status;
      payload = failure.body;
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(payload));
  }
}

/** A gate for requests of one method; see ComputeStandin.hold. */
export class Hold {
  private waiting: (() => void)[] = [];
  private released = false;
  private onArrival: (() => void)[] = [];

  enter(): Promise<void> {
    if (this.released) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      for (const notify of this.onArrival) notify();
    });
  }

  /** Resolves once `count` requests are being held. */
  async arrived(count: number): Promise<void> {
    while (this.waiting.length < count) {
      await new Promise<void>((resolve) => this.onArrival.push(resolve));
    }
  }

  release(): void {
    this.released = true;
    for (const resolve of this.waiting) resolve();
    this.waiting = [];
  }
}

interface Route {
  method: string;
  run: (state: ComputeState, body: Json) => Json;
}

/** Path patterns after /compute/v1/projects/{project}/, each capturing its names. */
const ROUTES: { verb: string; pattern: RegExp; route: (project: string, m: string[]) => Route }[] =
  [
    {
      verb: 'GET',
      pattern: /^$/,
      route: (p) => ({ method: 'projects.get', run: (s) => s.getProject(p) }),
    },
    {
      verb: 'GET',
      pattern: /^regions\/([^/]+)$/,
      route: (p, [r = '']) => ({ method: 'regions.get', run: (s) => s.getRegion(p, r) }),
    },
    {
      verb: 'POST',
      pattern: /^global\/snapshots$/,
      route: (p) => ({ method: 'snapshots.insert', run: (s, b) => s.insertSnapshot(p, b) }),
    },
    {
      verb: 'GET',
      pattern: /^global\/snapshots\/([^/]+)$/,
      route: (p, [n = '']) => ({ method: 'snapshots.get', run: (s) => s.getSnapshot(p, n) }),
    },
    {
      verb: 'DELETE',
      pattern: /^global\/snapshots\/([^/]+)$/,
      route: (p, [n = '']) => ({
        method: 'snapshots.delete',
        run: (s) => s.deleteSnapshot(p, n),
      }),
    },
    {
      verb: 'POST',
      pattern: /^zones\/([^/]+)\/disks$/,
      route: (p, [z = '']) => ({
        method: 'disks.insert',
        run: (s, b) => s.insertDisk(p, { zone: z }, b),
      }),
    },
    {
      verb: 'GET',
      pattern: /^zones\/([^/]+)\/disks\/([^/]+)$/,
      route: (p, [z = '', n = '']) => ({
        method: 'disks.get',
        run: (s) => s.getDisk({ project: p, zone: z, name: n }),
      }),
    },
    {
      verb: 'DELETE',
      pattern: /^zones\/([^/]+)\/disks\/([^/]+)$/,
      route: (p, [z = '', n = '']) => ({
        method: 'disks.delete',
        run: (s) => s.deleteDisk({ project: p, zone: z, name: n }),
      }),
    },
    {
      verb: 'POST',
      pattern: /^regions\/([^/]+)\/disks$/,
      route: (p, [r = '']) => ({
        method: 'regionDisks.insert',
        run: (s, b) => s.insertDisk(p, { region: r }, b),
      }),
    },
    {
      verb: 'GET',
      pattern: /^regions\/([^/]+)\/disks\/([^/]+)$/,
      route: (p, [r = '', n = '']) => ({
        method: 'regionDisks.get',
        run: (s) => s.getDisk({ project: p, region: r, name: n }),
      }),
    },
    {
      verb: 'DELETE',
      pattern: /^regions\/([^/]+)\/disks\/([^/]+)$/,
      route: (p, [r = '', n = '']) => ({
        method: 'regionDisks.delete',
        run: (s) => s.deleteDisk({ project: p, region: r, name: n }),
      }),
    },
    ...(['GET', 'POST'] as const).flatMap((verb) => {
      const tail = verb === 'GET' ? '' : '\\/wait';
      const op = verb === 'GET' ? 'get' : 'wait';
      return [
        {
          verb,
          pattern: new RegExp(`^global\\/operations\\/([^/]+)${tail}$`),
          route: (p: string, [o = '']: string[]): Route => ({
            method: `globalOperations.${op}`,
            run: (s) => s.lookAtOperation(p, {}, o),
          }),
        },
        {
          verb,
          pattern: new RegExp(`^zones\\/([^/]+)\\/operations\\/([^/]+)${tail}$`),
          route: (p: string, [z = '', o = '']: string[]): Route => ({
            method: `zoneOperations.${op}`,
            run: (s) => s.lookAtOperation(p, { zone: z }, o),
          }),
        },
        {
          verb,
          pattern: new RegExp(`^regions\\/([^/]+)\\/operations\\/([^/]+)${tail}$`),
          route: (p: string, [r = '', o = '']: string[]): Route => ({
            method: `regionOperations.${op}`,
            run: (s) => s.lookAtOperation(p, { region: r }, o),
          }),
        },
      ];
    }),
  ];

const PREFIX = /^\/compute\/v1\/projects\/([^/]+)\/?(.*)$/;

function routeOf(verb: string, pathname: string): Route {
  const prefix = PREFIX.exec(pathname);
  if (!prefix) return unsupported(verb, pathname);
  const project = decodeURIComponent(prefix[1] ?? '');
  const rest = prefix[2] ?? '';
  for (const candidate of ROUTES) {
    const match = candidate.verb === verb ? candidate.pattern.exec(rest) : null;
    if (match) return candidate.route(project, match.slice(1).map(decodeURIComponent));
  }
  return unsupported(verb, pathname);
}

function unsupported(verb: string, pathname: string): Route {
  return {
    method: 'unsupported',
    run: () => {
      throw new ApiFailure(
        apiError(404, 'notFound', `The stand-in does not serve ${verb} ${pathname}`),
      );
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === 'object' && parsed !== null ? (parsed as Json) : {};
}
