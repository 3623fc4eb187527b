import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A stand-in for the exec endpoint of the API server (there is no kubelet
 * here): `GET /api/v1/namespaces/{ns}/pods/{pod}/exec?command=...` upgraded
 * to a WebSocket that speaks the channel.k8s.io protocols, as
 * @kubernetes/client-node's Exec expects: binary messages whose first byte
 * is the channel (1 stdout, 2 stderr, 3 status as a v1 Status JSON), then a
 * close. Written on node:http and RFC 6455 framing, without a WebSocket
 * library, so nothing beyond the project's dependencies is needed.
 */

export interface ExecCall {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  protocol: string;
  authorization: string;
  /** Set when the client closed the connection before the command reported its status. */
  closedByClient: boolean;
}

/** What the "container" does with a command. */
export interface ExecScript {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** The command could not run at all (Status Failure without an exit code). */
  cannotRun?: string;
  /** Never finishes: only the client closing ends it. */
  hang?: boolean;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export class ExecStandin {
  readonly calls: ExecCall[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly token: string,
  ) {}

  /** `pods` lists the pods that exist as "namespace/name"; others answer 404. */
  static async start(pods: string[], script: (call: ExecCall) => ExecScript): Promise<ExecStandin> {
    const server = createServer((_req, res) => {
      res.writeHead(400).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const standin = new ExecStandin(server, `http://127.0.0.1:${port}`, 'exec-standin-token');
    server.on('upgrade', (req: IncomingMessage, socket: Socket) =>
      standin.upgrade(req, socket, pods, script),
    );
    return standin;
  }

  /** A kubeconfig for this endpoint: plain HTTP (skip-TLS is how client-node allows http:), bearer token. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'standin', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'admin', token: this.token }],
      contexts: [{ name: 'standin', cluster: 'standin', user: 'admin' }],
      currentContext: 'standin',
    });
    return kc;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private upgrade(
    req: IncomingMessage,
    socket: Socket,
    pods: string[],
    script: (call: ExecCall) => ExecScript,
  ): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const url = new URL(req.url ?? '/', this.url);
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    const protocol = PROTOCOLS.find((p) => offered.includes(p));
    const key = req.headers['sec-websocket-key'];
    if (!match || !protocol || typeof key !== 'string')
      return reject(socket, 400, 'BadRequest', 'not an exec upgrade');
    const [, namespace = '', pod = ''] = match;
    if (!pods.includes(`${namespace}/${pod}`))
      return reject(socket, 404, 'NotFound', `pods "${pod}" not found`);
    const call: ExecCall = {
      namespace,
      pod,
      container: url.searchParams.get('container') ?? '',
      command: url.searchParams.getAll('command'),
      protocol,
      authorization: String(req.headers.authorization ?? ''),
      closedByClient: false,
    };
    this.calls.push(call);
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
    );
    let finished = false;
    readFrames(socket, (opcode) => {
      if (opcode !== 0x8) return;
      if (!finished) call.closedByClient = true;
      finished = true;
      socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
    });
    const plan = script(call);
    if (plan.hang) return;
    const send = (channel: number, text: string): void => {
      if (text !== '')
        socket.write(frame(0x2, Buffer.concat([Buffer.from([channel]), Buffer.from(text)])));
    };
    setImmediate(() => {
      send(1, plan.stdout ?? '');
      send(2, plan.stderr ?? '');
      send(3, JSON.stringify(statusFor(plan, call.command)));
      finished = true;
      socket.write(frame(0x8, Buffer.from([0x03, 0xe8])));
    });
  }
}

/** The v1 Status the kubelet reports on the status channel. */
function statusFor(plan: ExecScript, command: string[]): object {
  if (plan.cannotRun) {
    return {
      metadata: {},
      status: 'Failure',
      message: `Internal error occurred: error executing command in container: ${plan.cannotRun}`,
      reason: 'InternalError',
      details: { causes: [{ message: plan.cannotRun }] },
      code: 500,
    };
  }
  const exitCode = plan.exitCode ?? 0;
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

function reject(socket: Socket, code: number, reason: string, message: string): void {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** One unmasked server-to-client frame (RFC 6455 section 5.2). */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) header = Buffer.from([0x80 | opcode, length]);
  else if (length < 65536) {
    header = Buffer.from([0x80 | opcode, 126, 0, 0]);
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

/** Reads client frames (masked, possibly split across chunks) and reports each opcode with its payload. */
function readFrames(socket: Socket, onFrame: (opcode: number, payload: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      const opcode = (pending[0] ?? 0) & 0x0f;
      const masked = ((pending[1] ?? 0) & 0x80) !== 0;
      let length = (pending[1] ?? 0) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        length = Number(pending.readBigUInt64BE(2));
        offset = 10;
      }
      const mask = masked ? pending.subarray(offset, offset + 4) : undefined;
      if (masked) offset += 4;
      if (pending.length < offset + length) return;
      const payload = Buffer.from(pending.subarray(offset, offset + length));
      if (mask)
        for (let i = 0; i < payload.length; i++)
          payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
      pending = pending.subarray(offset + length);
      onFrame(opcode, payload);
    }
  });
  socket.on('error', () => undefined);
}
