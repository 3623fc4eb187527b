import type { ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import type { Message } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import type { TopicRole } from '../../shared/bus/topics.js';
import type { FunctionName } from '../../functions/registry.js';
import type { LocalLifeboat } from '../../local/local-lifeboat.js';
import { required } from '../../local/settings.js';
import { hostileString, preview, type Json } from './fuzz-mutate.js';
import type { Random } from './fuzz-random.js';

/** One HTTP request to a function, as a push subscription (or anyone else) would send it. */
export interface FuzzRequest {
  headers: Record<string, string>;
  body: string | Buffer;
  /** The id the function logs the invocation under, when the request lets it be told. */
  messageId?: string;
  /** The base64 payload the function decodes, if it gets that far. */
  data?: string;
  /** What was done to make it hostile. */
  what: string[];
}

/** What a function answered. */
export interface Answer {
  status?: number;
  /** X-Google-Status: 'error' when the function threw, 'crash' when its process died. */
  googleStatus?: string;
  /** A connection error or timeout instead of an answer. */
  error?: string;
  ms: number;
}

/** A change to one object of the bucket between two listings. */
export interface Change {
  name: string;
  change: 'created' | 'changed' | 'deleted';
}

/** A line the common wrapper (functions/handle.ts) logs about an invocation. */
export interface HandlerLine {
  messageId: string;
  event: 'invoked' | 'rejected' | 'permanent' | 'transient';
  reason?: string;
}

const EVENTS: readonly [string, HandlerLine['event']][] = [
  [': invoked', 'invoked'],
  [': rejected a malformed message', 'rejected'],
  [': permanent failure', 'permanent'],
  [': transient failure', 'transient'],
];

/**
 * One deployed function under fuzz: its Functions Framework server (posted
 * to directly, on the push endpoint path its subscription uses), its own
 * bucket (listed with generations, so every write is seen), and its log.
 */
export class FunctionTarget {
  readonly bucketName: string;
  readonly storePrefix: string;
  private readonly storage: Storage;
  /** The servers' stdout (the JSON log lines), read from the process: the log file mixes in stderr. */
  private stdout = '';
  private attached: ChildProcess | undefined;

  constructor(
    readonly name: FunctionName,
    readonly lb: LocalLifeboat,
    readonly trigger: TopicRole,
  ) {
    const match = /^gs:\/\/([^/]+)\/(.*)$/.exec(lb.storeUrl);
    if (!match) throw new Error(`unexpected store URL ${lb.storeUrl}`);
    this.bucketName = match[1]!;
    this.storePrefix = `${match[2]!.replace(/\/$/, '')}/`;
    this.storage = new Storage({
      apiEndpoint: required('LIFEBOAT_STORAGE_ENDPOINT'),
      projectId: lb.project,
    });
    this.attach();
  }

  private attach(): void {
    const child = this.lb.pipeline.servers.get(this.name)?.service.child;
    if (!child || child === this.attached) return;
    this.attached = child;
    const decoder = new StringDecoder('utf8');
    child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += decoder.write(chunk);
    });
  }

  get port(): number {
    const server = this.lb.pipeline.servers.get(this.name);
    if (!server) throw new Error(`function ${this.name} is not running`);
    return server.port;
  }

  /** The push endpoint path the emulator posts to. */
  get path(): string {
    return `/projects/${this.lb.project}/topics/${this.lb.pipeline.topic(this.trigger)}`;
  }

  get subscription(): string {
    return `projects/${this.lb.project}/subscriptions/${this.lb.topicPrefix}${this.name}`;
  }

  get logFile(): string {
    return join(this.lb.pipeline.logDir, `function-${this.name}.log`);
  }

  /** Whether the function's process is still running. */
  alive(): boolean {
    const child = this.lb.pipeline.servers.get(this.name)?.service.child;
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  async restart(): Promise<void> {
    await this.lb.pipeline.kill(this.name);
    await this.lb.pipeline.startFunction(this.name);
    this.attach();
  }

  async post(request: FuzzRequest, timeoutMs: number): Promise<Answer> {
    const started = Date.now();
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}${this.path}`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer();
      const googleStatus = response.headers.get('x-google-status');
      return {
        status: response.status,
        ...(googleStatus ? { googleStatus } : {}),
        ms: Date.now() - started,
      };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      return { error: `${e.name}: ${e.cause?.code ?? e.message}`, ms: Date.now() - started };
    }
  }

  /** Every object of the bucket (all of it, not only the store's prefix) with its version. */
  async snapshot(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.storage.bucket(this.bucketName).getFiles({
        autoPaginate: false,
        maxResults: 1000,
        ...(pageToken ? { pageToken } : {}),
      });
      for (const f of files) {
        const m = f.metadata;
        out.set(
          f.name,
          `${m.generation}:${m.metageneration}:${m.md5Hash}:${JSON.stringify(m.metadata ?? {})}`,
        );
      }
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
    return out;
  }

  /** The handler's lines in the log so far. */
  handlerLines(): HandlerLine[] {
    const out: HandlerLine[] = [];
    for (const line of this.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry: { function?: unknown; messageId?: unknown; message?: unknown; reason?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if (entry.function !== this.name || typeof entry.message !== 'string') continue;
      const found = EVENTS.find(([text]) =>
        (entry.message as string).startsWith(`${this.name}${text}`),
      );
      if (!found) continue;
      out.push({
        messageId: String(entry.messageId),
        event: found[1],
        ...(typeof entry.reason === 'string' ? { reason: entry.reason } : {}),
      });
    }
    return out;
  }

  /** Waits until the log shows a line for `messageId` (of one of `events`, when given). */
  async waitForLine(
    messageId: string,
    timeoutMs: number,
    events?: readonly HandlerLine['event'][],
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const found = (): boolean =>
      this.handlerLines().some(
        (l) => l.messageId === messageId && (!events || events.includes(l.event)),
      );
    while (!found()) {
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: no ${events?.join('/') ?? ''} log line for ${messageId} within ${timeoutMs} ms (${this.logFile})`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function diff(before: Map<string, string>, after: Map<string, string>): Change[] {
  const out: Change[] = [];
  for (const [name, v] of after) {
    const was = before.get(name);
    if (was === undefined) out.push({ name, change: 'created' });
    else if (was !== v) out.push({ name, change: 'changed' });
  }
  for (const name of before.keys()) if (!after.has(name)) out.push({ name, change: 'deleted' });
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A Pub/Sub push request: `{ message: { data, messageId, publishTime, attributes }, subscription }`. */
export function pushRequest(
  data: string,
  messageId: string,
  subscription: string,
  what: string[] = [],
): FuzzRequest {
  return {
    headers: JSON_HEADERS,
    body: JSON.stringify({
      message: { data, messageId, publishTime: new Date().toISOString(), attributes: {} },
      subscription,
    }),
    messageId,
    data,
    what,
  };
}

/** Payload bytes that are not one JSON message: broken text, other encodings, other JSON. */
export function hostilePayload(r: Random, valid: Buffer): { bytes: Buffer; what: string } {
  const text = valid.toString('utf8');
  return r.weighted<() => { bytes: Buffer; what: string }>([
    [
      2,
      () => ({
        bytes: Buffer.from(text.slice(0, r.int(0, text.length - 1))),
        what: 'truncated JSON',
      }),
    ],
    [1, () => ({ bytes: Buffer.alloc(0), what: 'empty payload' })],
    [1, () => ({ bytes: Buffer.from(`\ufeff${text}`), what: 'JSON after a byte-order mark' })],
    [1, () => ({ bytes: Buffer.from(text, 'utf16le'), what: 'UTF-16 JSON' })],
    [
      1,
      () => ({
        bytes: Buffer.concat([Buffer.from(text), Buffer.from([0xff, 0xfe, 0x00])]),
        what: 'trailing invalid UTF-8',
      }),
    ],
    [1, () => ({ bytes: Buffer.from(text.replace('{', '{\u0000')), what: 'NUL inside JSON' })],
    [
      1,
      () => ({
        bytes: Buffer.from(
          r.pick(['null', '[]', '"ScheduleTick"', '0', 'true', '1e999', '{}', '[{}]']),
        ),
        what: 'other JSON',
      }),
    ],
    [1, () => ({ bytes: Buffer.from(`${text}${text}`), what: 'two JSON documents' })],
    [1, () => ({ bytes: Buffer.from(`[${text}]`), what: 'message inside an array' })],
    [1, () => ({ bytes: Buffer.from(JSON.stringify(text)), what: 'message as a JSON string' })],
    [
      1,
      () => ({
        bytes: Buffer.from(text.replace(/"kind":/, '"kind":"X","kind":')),
        what: 'duplicate kind key',
      }),
    ],
    [1, () => ({ bytes: Buffer.from(hostileString(r)), what: 'hostile text' })],
    [
      1,
      () => ({
        bytes: Buffer.from(Array.from({ length: r.int(1, 300) }, () => r.int(0, 255))),
        what: 'random bytes',
      }),
    ],
    [
      0.3,
      () => ({
        bytes: Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`),
        what: 'deeply nested JSON',
      }),
    ],
  ])();
}

/**
 * A push request whose envelope is hostile: data that is not base64 or not
 * a string, a missing or odd messageId, publishTime or attributes. Returns
 * whether the function can still tell the case's id.
 */
export function hostileEnvelope(
  r: Random,
  data: string,
  messageId: string,
  subscription: string,
): FuzzRequest {
  const message: Record<string, Json> = {
    data,
    messageId,
    publishTime: new Date().toISOString(),
    attributes: {},
  };
  const body: Record<string, Json> = { message, subscription };
  let known = true;
  const what = r.weighted<() => string>([
    [
      2,
      () => (
        (message['data'] = r.pick([
          '!!!not base64!!!',
          '====',
          'e30',
          '*',
          '%%%',
          ' \n\t',
          'AAAA\u0000',
        ])),
        `data = ${preview(message['data'])}`
      ),
    ],
    [
      1,
      () => (
        (message['data'] = data.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
        'data base64url, unpadded'
      ),
    ],
    [1, () => ((message['data'] = data.replace(/(.{7})/g, '$1\n')), 'data with line breaks')],
    [
      2,
      () => (
        (message['data'] = r.pick<Json>([12345, true, { data }, [data], null])),
        `data = ${preview(message['data'])}`
      ),
    ],
    [1, () => (delete message['data'], (known = false), 'no data')],
    [1, () => (delete message['messageId'], (known = false), 'no messageId')],
    [
      1,
      () => (
        (message['messageId'] = r.pick<Json>([42, { id: messageId }, 'x'.repeat(300)])),
        (known = false),
        `messageId = ${preview(message['messageId'])}`
      ),
    ],
    [
      2,
      () => (
        (message['publishTime'] = r.pick<Json>([
          'not-a-date',
          '',
          'x'.repeat(300),
          17,
          '2026-13-45T99:99:99Z',
          '+275760-09-13T00:00:00.001Z',
        ])),
        `publishTime = ${preview(message['publishTime'])}`
      ),
    ],
    [1, () => (delete message['publishTime'], 'no publishTime')],
    [
      1,
      () => (
        (message['attributes'] = r.pick<Json>([
          5,
          'attrs',
          [1],
          { a: { b: 1 } },
          { [hostileString(r)]: hostileString(r) },
        ])),
        `attributes = ${preview(message['attributes'])}`
      ),
    ],
    [1, () => (delete body['subscription'], 'no subscription')],
    [
      1,
      () => (
        (body['subscription'] = r.pick<Json>([null, 7, hostileString(r)])),
        `subscription = ${preview(body['subscription'])}`
      ),
    ],
    [
      1,
      () => (
        (body['deliveryAttempt'] = r.pick<Json>([-1, 0, 1e9, 'many', 2.5])),
        `deliveryAttempt = ${preview(body['deliveryAttempt'])}`
      ),
    ],
    [
      1,
      () => (
        (body['message'] = r.pick<Json>([null, 'message', [message], 7])),
        (known = false),
        `message = ${preview(body['message'])}`
      ),
    ],
  ])();
  return {
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
    ...(known ? { messageId } : {}),
    ...(typeof message['data'] === 'string' ? { data: message['data'] } : {}),
    what: [`envelope: ${what}`],
  };
}

/**
 * A body that is no Pub/Sub push request at all: other content types,
 * broken JSON, CloudEvents (structured and binary) with hostile data,
 * legacy background events. Only an authenticated caller could send one.
 */
export function foreignRequest(r: Random, data: string, messageId: string): FuzzRequest {
  const json = (body: Json, what: string, id?: string, carried?: string): FuzzRequest => ({
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
    ...(id ? { messageId: id } : {}),
    ...(carried ? { data: carried } : {}),
    what: [`not a push request: ${what}`],
  });
  return r.weighted<() => FuzzRequest>([
    [
      1,
      () => ({
        headers: { 'content-type': 'text/plain' },
        body: hostileString(r),
        what: ['not a push request: text/plain'],
      }),
    ],
    [
      1,
      () => ({
        headers: JSON_HEADERS,
        body: '{"message": {"data": ',
        what: ['not a push request: broken JSON'],
      }),
    ],
    [
      1,
      () => ({
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.from([0, 255, 1, 254]),
        what: ['not a push request: octet-stream'],
      }),
    ],
    [
      1,
      () => ({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `message[data]=${encodeURIComponent(data)}&message[messageId]=${messageId}`,
        messageId,
        what: ['not a push request: form-encoded envelope'],
      }),
    ],
    [1, () => json(r.pick<Json>([[], [1, 2], {}, { foo: 'bar' }]), 'other JSON')],
    [
      1,
      () => {
        // The event's time stands in for a publish time the message lacks.
        const time = r.chance(0.4)
          ? r.pick(['yesterday', '', '+275760-09-13T00:00:00.001Z'])
          : undefined;
        return json(
          {
            id: messageId,
            specversion: '1.0',
            type: 't',
            source: 's',
            ...(time !== undefined ? { time } : {}),
            data: { message: { data } },
          },
          `structured CloudEvent${time !== undefined ? `, time = ${preview(time)}` : ''}`,
          messageId,
          data,
        );
      },
    ],
    [
      1,
      () =>
        json(
          { id: messageId, data: r.pick<Json>([null, 'str', 5, [data], { message: null }]) },
          'CloudEvent with odd data',
          messageId,
        ),
    ],
    [
      1,
      () => ({
        headers: {
          'content-type': 'application/json',
          'ce-id': messageId,
          'ce-specversion': '1.0',
          'ce-type': 't',
          'ce-source': 's',
        },
        body: JSON.stringify({ message: { data } }),
        messageId,
        data,
        what: ['not a push request: binary CloudEvent'],
      }),
    ],
    [
      1,
      () => ({
        headers: {
          'content-type': 'application/json',
          'ce-id': messageId,
          'ce-specversion': '1.0',
          'ce-type': 't',
          'ce-source': 's',
        },
        body: JSON.stringify(r.pick<Json>([[data], { data }, 'x'])),
        messageId,
        what: ['not a push request: binary CloudEvent, odd data'],
      }),
    ],
    [
      1,
      () =>
        json(
          {
            context: {
              eventId: messageId,
              eventType: 'google.pubsub.topic.publish',
              resource: { service: 'pubsub.googleapis.com', name: 'projects/p/topics/t' },
            },
            data: { data },
          },
          'legacy background event',
          messageId,
          data,
        ),
    ],
    [
      1,
      () =>
        json(
          {
            context: {
              eventId: messageId,
              eventType: 'google.pubsub.topic.publish',
              resource: r.pick<Json>([null, 5, 'x']),
            },
            data: r.pick<Json>([null, 'str', {}]),
          },
          'legacy event, odd resource and data',
        ),
    ],
    [
      1,
      () =>
        json(
          {
            eventType: r.pick([
              'providers/cloud.storage/eventTypes/object.change',
              'providers/firebase.auth/eventTypes/user.create',
            ]),
            resource: 'x',
            data: { metadata: null },
          },
          'legacy event of another service',
        ),
    ],
  ])();
}

/**
 * Subscriptions on the topics a function may not publish to, made before
 * the fuzz: whatever arrives there was published by the function. Each
 * topic gets a canary at the end, so draining waits until every earlier
 * message has had its chance to arrive.
 */
export class TopicWatch {
  private readonly names: { role: TopicRole; subscription: string }[] = [];

  private constructor(private readonly lb: LocalLifeboat) {}

  static async open(lb: LocalLifeboat, roles: readonly TopicRole[]): Promise<TopicWatch> {
    const watch = new TopicWatch(lb);
    for (const role of roles) {
      const subscription = `${lb.topicPrefix}fz-watch-${role}`;
      await lb.pipeline.pubsub.topic(lb.pipeline.topic(role)).createSubscription(subscription);
      watch.names.push({ role, subscription });
    }
    return watch;
  }

  /** What was published to each watched topic (canaries left out). */
  async drain(timeoutMs: number): Promise<{ role: TopicRole; data: string }[]> {
    const canary = `fuzz-canary-${Math.random().toString(36).slice(2)}`;
    const found: { role: TopicRole; data: string }[] = [];
    await Promise.all(
      this.names.map(async ({ role, subscription }) => {
        const sub = this.lb.pipeline.pubsub.subscription(subscription, {
          streamingOptions: { maxStreams: 1 },
        });
        let seen = false;
        sub.on('message', (m: Message) => {
          const data = m.data.toString('utf8');
          if (data === canary) seen = true;
          else found.push({ role, data });
          m.ack();
        });
        sub.on('error', () => undefined);
        await this.lb.pipeline.pubsub
          .topic(this.lb.pipeline.topic(role))
          .publishMessage({ data: Buffer.from(canary) });
        const deadline = Date.now() + timeoutMs;
        while (!seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        await sub.close();
        if (!seen) throw new Error(`the canary published to ${role} never arrived`);
      }),
    );
    return found;
  }
}
