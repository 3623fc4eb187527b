import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  computeClientOptions,
  type ComputeClientOptions,
} from '../../../shared/disks/compute-client-options.js';
import { CallCounts, LoopbackStandin, readRequestText, sendJson } from '../loopback-standin.js';
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
export class ComputeStandin extends LoopbackStandin {
  readonly state = new ComputeState();
  private readonly counts = new CallCounts<string>();
  private readonly holds = new Map<string, Hold>();
  private readonly failures = new Map<string, { remaining: number; error: ApiError }>();
  /** How long operations.wait blocks before answering, like the real one (which blocks up to 2 minutes). */
  waitDelayMs = 5;

  private constructor() {
    super();
  }

  static start(): Promise<ComputeStandin> {
    return new ComputeStandin().listen();
  }

  /** Options that point the real client at this stand-in (see computeClientOptions). */
  clientOptions(): ComputeClientOptions {
    return computeClientOptions(this.url);
  }

  override async stop(): Promise<void> {
    for (const hold of this.holds.values()) hold.release();
    await super.stop();
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
    return this.counts.of(method);
  }

  calls(): Record<string, number> {
    return this.counts.toRecord();
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

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', this.url);
    const route = routeOf(req.method ?? 'GET', url.pathname);
    this.counts.add(route.method);
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
    sendJson(res, status, JSON.stringify(payload));
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

const DISK_SCOPES: {
  under: string;
  api: string;
  scope: (location: string) => { zone: string } | { region: string };
}[] = [
  { under: 'zones', api: 'disks', scope: (zone) => ({ zone }) },
  { under: 'regions', api: 'regionDisks', scope: (region) => ({ region }) },
];

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
    // Zonal disks (disks.*) and regional ones (regionDisks.*): the same calls under zones/ or regions/.
    ...DISK_SCOPES.flatMap(({ under, api, scope }) => {
      const disk = (p: string, [l = '', n = '']: string[]): DiskAddress => ({
        project: p,
        ...scope(l),
        name: n,
      });
      return [
        {
          verb: 'POST',
          pattern: new RegExp(`^${under}\\/([^/]+)\\/disks$`),
          route: (p: string, [l = '']: string[]): Route => ({
            method: `${api}.insert`,
            run: (s, b) => s.insertDisk(p, scope(l), b),
          }),
        },
        {
          verb: 'GET',
          pattern: new RegExp(`^${under}\\/([^/]+)\\/disks\\/([^/]+)$`),
          route: (p: string, m: string[]): Route => ({
            method: `${api}.get`,
            run: (s) => s.getDisk(disk(p, m)),
          }),
        },
        {
          verb: 'DELETE',
          pattern: new RegExp(`^${under}\\/([^/]+)\\/disks\\/([^/]+)$`),
          route: (p: string, m: string[]): Route => ({
            method: `${api}.delete`,
            run: (s) => s.deleteDisk(disk(p, m)),
          }),
        },
      ];
    }),
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

/** The request's body as a JSON object ({} when it is empty or not an object). */
async function readBody(req: IncomingMessage): Promise<Json> {
  const text = await readRequestText(req);
  if (text === '') return {};
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === 'object' && parsed !== null ? (parsed as Json) : {};
}
