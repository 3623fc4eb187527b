import { appendFileSync } from 'node:fs';
import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  connect as connectHttp2,
  constants as h2,
  createServer as createHttp2Server,
  type ClientHttp2Session,
  type Http2Server,
  type IncomingHttpHeaders as Http2Headers,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';

/** The Google Cloud APIs a function reaches, by the setting that points it there. */
export const RecordedApis = ['storage', 'compute', 'container', 'kms', 'pubsub'] as const;
export type RecordedApi = (typeof RecordedApis)[number];

/** Where each HTTP API is configured: the variable holds its base URL. */
const HTTP_ENDPOINTS: Record<Exclude<RecordedApi, 'pubsub'>, string> = {
  storage: 'LIFEBOAT_STORAGE_ENDPOINT',
  compute: 'LIFEBOAT_COMPUTE_ENDPOINT',
  container: 'LIFEBOAT_CONTAINER_ENDPOINT',
  kms: 'LIFEBOAT_KMS_ENDPOINT',
};

/**
 * One API call a function made, as it went over the wire: the HTTP method
 * and path (with the query parameters apart), or the gRPC method for
 * Pub/Sub. Enough to name the API method and so the IAM permissions it
 * needs; nothing of the payload but what changes the permission.
 */
export interface ApiCall {
  /** The function whose process made the call. */
  fn: string;
  api: RecordedApi;
  /** HTTP method; for gRPC, POST. */
  method: string;
  /** The URL path, or the gRPC method path (/google.pubsub.v1.Publisher/Publish). */
  path: string;
  query: Record<string, string>;
  /** Top-level fields of a JSON request body (a snapshot's `labels`, a disk's `sourceSnapshot`). */
  bodyFields?: string[];
  /** Pub/Sub Publish: the topic, from the request's first field. */
  topic?: string;
  /** The HTTP status, or for gRPC the grpc-status (0 is OK). */
  status: number;
}

/** A call to answer with a failure instead of forwarding it, once per `count`. */
export interface InjectedFault {
  fn: string;
  api: RecordedApi;
  /** Matched against ApiCall.path. */
  path: RegExp;
  /** The gRPC status (Pub/Sub) or HTTP status to answer with. */
  status: number;
  count: number;
  /** Pub/Sub only: the fault applies to a Publish to a matching topic, and to no other call. */
  topic?: RegExp;
  /** Pub/Sub only: how long the call is held, unanswered, before the fault is answered. */
  holdMs?: number;
  /** Called when a call is taken by this fault (before it is held). */
  onTaken?: (call: ApiCall) => void;
}

/** JSON bodies up to this size are read for their top-level fields; larger ones are not parsed. */
const MAX_PARSED_BODY = 256 * 1024;

/**
 * Records every Google Cloud API call of every function, by putting a
 * recording proxy of its own between each function process and each API it
 * is configured with: an HTTP/1.1 reverse proxy in front of each HTTP
 * endpoint (Cloud Storage on fake-gcs-server, the Compute, Container and
 * Cloud KMS stand-ins) and an HTTP/2 (h2c) proxy in front of the Pub/Sub
 * emulator's gRPC. Since every process has its own proxies, every call is
 * attributed to the function that made it. What goes through is forwarded
 * unchanged; the calls are kept in `calls` and, with `file`, appended to it
 * as JSON lines.
 */
export class ApiRecorder {
  readonly calls: ApiCall[] = [];
  private readonly servers: (Server | Http2Server)[] = [];
  private readonly sessions: ClientHttp2Session[] = [];
  private readonly environments = new Map<string, Promise<Record<string, string>>>();
  private readonly faults: InjectedFault[] = [];
  private stopped = false;

  constructor(private readonly options: { file?: string } = {}) {}

  /**
   * The variables that point one function at its own proxies, in front of
   * what `environment` points it at (PUBSUB_EMULATOR_HOST and the
   * LIFEBOAT_*_ENDPOINT settings present). Made once per function: a
   * restarted function keeps its proxies.
   */
  environmentFor(fn: string, environment: Record<string, string>): Promise<Record<string, string>> {
    let made = this.environments.get(fn);
    if (!made) {
      made = this.makeEnvironment(fn, environment);
      this.environments.set(fn, made);
    }
    return made;
  }

  /** Answers the next `count` matching calls with `status` instead of forwarding them. */
  inject(fault: InjectedFault): void {
    this.faults.push({ ...fault });
  }

  callsOf(fn: string): ApiCall[] {
    return this.calls.filter((c) => c.fn === fn);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const session of this.sessions) session.destroy();
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if ('closeAllConnections' in server) server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
  }

  private async makeEnvironment(
    fn: string,
    environment: Record<string, string>,
  ): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [api, variable] of Object.entries(HTTP_ENDPOINTS) as [RecordedApi, string][]) {
      const upstream = environment[variable] ?? process.env[variable];
      if (!upstream) continue;
      out[variable] = await this.httpProxy(fn, api, new URL(upstream));
    }
    const emulator = environment['PUBSUB_EMULATOR_HOST'] ?? process.env['PUBSUB_EMULATOR_HOST'];
    if (emulator) out['PUBSUB_EMULATOR_HOST'] = await this.grpcProxy(fn, emulator);
    return out;
  }

  private record(call: ApiCall): void {
    this.calls.push(call);
    // A call answered after stop() (a function still winding down) is kept, not written: the
    // file's folder may be gone by then.
    if (this.options.file && !this.stopped)
      appendFileSync(this.options.file, `${JSON.stringify(call)}\n`);
  }

  private takeFault(
    fn: string,
    api: RecordedApi,
    path: string,
    topic?: string,
  ): InjectedFault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.count > 0 &&
        f.fn === fn &&
        f.api === api &&
        f.path.test(path) &&
        (f.topic === undefined || (topic !== undefined && f.topic.test(topic))),
    );
    if (fault) fault.count--;
    return fault;
  }

  /** Whether a call could be taken by a fault that depends on its topic, known only from its body. */
  private topicFaultPending(fn: string, path: string): boolean {
    return this.faults.some(
      (f) => f.count > 0 && f.fn === fn && f.api === 'pubsub' && f.topic && f.path.test(path),
    );
  }

  /** An HTTP/1.1 reverse proxy to `upstream`; its base URL. */
  private async httpProxy(fn: string, api: RecordedApi, upstream: URL): Promise<string> {
    let base = '';
    const server = createServer((req, res) => {
      void this.forwardHttp(fn, api, upstream, base, req, res);
    });
    // Idle connections stay open, as fake-gcs-server and the stand-ins keep them: with Node's
    // 5 s default, a client reusing a socket the proxy just closed would see a reset.
    server.keepAliveTimeout = 0;
    await listen(server);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.servers.push(server);
    return base;
  }

  private async forwardHttp(
    fn: string,
    api: RecordedApi,
    upstream: URL,
    base: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const call: ApiCall = {
      fn,
      api,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    // JSON bodies are small (API resources): read whole, to name their fields, then sent on.
    const json = /json/.test(String(req.headers['content-type'] ?? ''));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (json && body.length > 0 && body.length <= MAX_PARSED_BODY) {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          call.bodyFields = Object.keys(parsed).sort();
      } catch {
        // not JSON after all: no fields
      }
    }
    const fault = this.takeFault(fn, api, call.path);
    if (fault) {
      call.status = fault.status;
      this.record(call);
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { code: fault.status, message: 'injected by the recorder' } }),
      );
      return;
    }
    const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
    delete headers['content-length'];
    const out = request(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (answer) => {
        call.status = answer.statusCode ?? 0;
        this.record(call);
        const back = { ...answer.headers };
        // A resumable upload's session URL names the upstream: keep it coming through here.
        if (typeof back.location === 'string')
          back.location = back.location.replace(upstream.origin, base);
        res.writeHead(answer.statusCode ?? 502, back);
        answer.pipe(res);
      },
    );
    out.on('error', (error) => {
      call.status = 502;
      this.record(call);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`recording proxy: ${error.message}`);
    });
    out.end(body);
  }

  /** An h2c proxy to the gRPC server at `host` (host:port); the host:port it listens on. */
  private async grpcProxy(fn: string, host: string): Promise<string> {
    let session: ClientHttp2Session | undefined;
    const upstream = (): ClientHttp2Session => {
      if (!session || session.closed || session.destroyed) {
        session = connectHttp2(`http://${host}`);
        session.on('error', () => undefined);
        this.sessions.push(session);
      }
      return session;
    };
    const server = createHttp2Server();
    server.on('stream', (stream, headers) => this.forwardGrpc(fn, upstream, stream, headers));
    server.on('sessionError', () => undefined);
    await listen(server);
    this.servers.push(server);
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  private forwardGrpc(
    fn: string,
    upstream: () => ClientHttp2Session,
    stream: ServerHttp2Stream,
    headers: Http2Headers,
  ): void {
    const path = String(headers[h2.HTTP2_HEADER_PATH] ?? '');
    const call: ApiCall = { fn, api: 'pubsub', method: 'POST', path, query: {}, status: -1 };
    stream.on('error', () => undefined);
    let head = Buffer.alloc(0);
    const readTopic = (chunk: Buffer): void => {
      if (call.topic !== undefined || head.length > 4096) return;
      head = Buffer.concat([head, chunk]);
      const topic = firstStringField(head);
      if (topic !== undefined) call.topic = topic;
    };
    const answerFault = (fault: InjectedFault): void => {
      fault.onTaken?.(call);
      const answer = (): void => {
        call.status = fault.status;
        this.record(call);
        if (stream.destroyed || stream.closed) return; // the caller died while it was held
        stream.respond(
          {
            [h2.HTTP2_HEADER_STATUS]: 200,
            'content-type': 'application/grpc',
            'grpc-status': String(fault.status),
            'grpc-message': 'injected by the recorder',
          },
          { endStream: true },
        );
      };
      if (fault.holdMs) setTimeout(answer, fault.holdMs).unref();
      else answer();
    };
    if (this.topicFaultPending(fn, path)) {
      // The fault depends on the topic: the request is read up to its topic before it is
      // answered or forwarded, with what was read so far sent on first.
      const held: Buffer[] = [];
      let ended = false;
      let decided = false;
      const decide = (): void => {
        if (decided) return;
        decided = true;
        stream.off('data', onData);
        const fault = this.takeFault(fn, 'pubsub', path, call.topic);
        if (fault) {
          if (ended) answerFault(fault);
          else stream.on('end', () => answerFault(fault)).resume();
          return;
        }
        this.forwardGrpcCall(call, upstream, stream, headers, held, ended);
      };
      const onData = (chunk: Buffer): void => {
        held.push(chunk);
        readTopic(chunk);
        if (call.topic !== undefined || head.length > 4096) decide();
      };
      stream.on('data', onData);
      stream.on('end', () => {
        ended = true;
        decide();
      });
      return;
    }
    const fault = this.takeFault(fn, 'pubsub', path);
    if (fault) {
      stream.on('data', readTopic);
      stream.on('end', () => answerFault(fault));
      return;
    }
    this.forwardGrpcCall(call, upstream, stream, headers, [], false);
  }

  /** Forwards a call upstream: `sent` is what was already read of it, `ended` whether that was all. */
  private forwardGrpcCall(
    call: ApiCall,
    upstream: () => ClientHttp2Session,
    stream: ServerHttp2Stream,
    headers: Http2Headers,
    sent: Buffer[],
    ended: boolean,
  ): void {
    let head = Buffer.concat(sent);
    const readTopic = (chunk: Buffer): void => {
      if (call.topic !== undefined || head.length > 4096) return;
      head = Buffer.concat([head, chunk]);
      const topic = firstStringField(head);
      if (topic !== undefined) call.topic = topic;
    };
    const forwarded: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      if (name.startsWith(':') && name !== ':method' && name !== ':path') continue;
      forwarded[name] = value;
    }
    const out = upstream().request(forwarded);
    out.on('error', () => {
      if (!stream.headersSent)
        stream.respond({ [h2.HTTP2_HEADER_STATUS]: 502 }, { endStream: true });
      else stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    });
    for (const chunk of sent) out.write(chunk);
    if (ended) out.end();
    else {
      stream.on('data', (chunk: Buffer) => {
        readTopic(chunk);
        out.write(chunk);
      });
      stream.on('end', () => out.end());
    }
    stream.on('close', () => {
      if (!out.closed) out.close(h2.NGHTTP2_CANCEL);
    });
    // The answer is held until its first data, its trailers or its end, so that a
    // trailers-only answer (an error: status in the headers, no body) goes back as one.
    let responseHeaders: OutgoingHttpHeaders | undefined;
    let trailers: OutgoingHttpHeaders = {};
    let responded = false;
    const respond = (endStream: boolean): void => {
      if (responded || !responseHeaders) return;
      responded = true;
      stream.respond(responseHeaders, endStream ? { endStream: true } : { waitForTrailers: true });
    };
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    out.on('response', (h) => {
      responseHeaders = { ...h };
      if (h['grpc-status'] !== undefined) call.status = Number(h['grpc-status']);
    });
    out.on('data', (chunk: Buffer) => {
      respond(false);
      stream.write(chunk);
    });
    out.on('trailers', (t) => {
      trailers = { ...t };
      if (t['grpc-status'] !== undefined) call.status = Number(t['grpc-status']);
      respond(false);
    });
    out.on('end', () => {
      this.record(call);
      if (!responded) respond(true);
      else stream.end();
    });
  }
}

function listen(server: Server | Http2Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
}

/**
 * The first field of the first gRPC message in `frame`, when it is field 1
 * of wire type 2 (a string): the topic of a PublishRequest. Undefined until
 * enough bytes are in.
 */
export function firstStringField(frame: Buffer): string | undefined {
  // 1 byte compressed flag, 4 bytes message length, then the protobuf message.
  if (frame.length < 6 || frame[0] !== 0) return undefined;
  if (frame[5] !== 0x0a) return undefined;
  let length = 0;
  let shift = 0;
  let at = 6;
  for (;;) {
    const byte = frame[at];
    if (byte === undefined) return undefined;
    length |= (byte & 0x7f) << shift;
    at++;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) return undefined;
  }
  if (frame.length < at + length) return undefined;
  return frame.subarray(at, at + length).toString('utf8');
}
