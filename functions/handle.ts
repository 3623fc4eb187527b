import type { CloudEvent } from '@google-cloud/functions-framework';
import { cloudEvent } from '@google-cloud/functions-framework';
import { decodeJson } from '../shared/messages/index.js';
import { errorMessage, isRetryable, ValidationError } from '../shared/errors.js';
import { getRuntime, type Runtime } from './runtime.js';
import type { Logger } from '../shared/log/logger.js';
import { invocationTrace, newExecutionId, withLogContext } from '../shared/log/log-context.js';
import type { FunctionName } from './registry.js';
import { Deadline } from '../shared/time/deadline.js';

/** The data of a Pub/Sub CloudEvent (google.cloud.pubsub.topic.v1.messagePublished). */
export interface MessagePublishedData {
  message: {
    data?: string;
    attributes?: Record<string, string>;
    messageId?: string;
    publishTime?: string;
  };
  subscription?: string;
  deliveryAttempt?: number;
}

export interface Invocation {
  runtime: Runtime;
  messageId: string;
  publishTime: string;
  /** 1 on first delivery, when Pub/Sub says (dead-letter policies make it say). */
  deliveryAttempt: number;
  /** When this invocation must hand over: well inside the 9-minute limit. */
  deadline: Deadline;
  /** The runtime's logger, tagged with this function and message. */
  log: Logger;
}

/** Event-driven functions are stopped after 9 minutes; work hands over after this much. */
export const WORK_BUDGET_MS = Number(process.env['LIFEBOAT_WORK_BUDGET_MS'] ?? 6 * 60_000);

/**
 * Registers a Pub/Sub-triggered function: decodes and validates the
 * message, runs `work`, and classifies failures. A malformed message or a
 * permanent error is logged with its reason and acknowledged (returning),
 * never retried forever; a transient error is rethrown so Pub/Sub redelivers.
 */
export function register<T>(
  name: FunctionName,
  parse: (json: unknown) => T,
  work: (message: T, invocation: Invocation) => Promise<void>,
): void {
  cloudEvent<MessagePublishedData>(name, async (event: CloudEvent<MessagePublishedData>) => {
    // The budget counts from delivery, before the runtime is built.
    const deadline = Deadline.after(WORK_BUDGET_MS);
    const runtime = getRuntime();
    // Every line logged during this invocation carries its execution id and trace.
    const context = {
      executionId: newExecutionId(),
      trace: invocationTrace(
        runtime.config.project,
        (event as { traceparent?: unknown }).traceparent,
      ),
    };
    await withLogContext(context, () => invoke(name, parse, work, event, deadline, runtime));
  });
}

/** One invocation: decode and validate the message, run `work`, classify its failure. */
async function invoke<T>(
  name: FunctionName,
  parse: (json: unknown) => T,
  work: (message: T, invocation: Invocation) => Promise<void>,
  event: CloudEvent<MessagePublishedData>,
  deadline: Deadline,
  runtime: Runtime,
): Promise<void> {
  const envelope = envelopeOf(event);
  const log = runtime.logger.child({ function: name, messageId: envelope.messageId });
  let message: T;
  try {
    if (envelope.problem) throw new ValidationError(`${name} push envelope`, [envelope.problem]);
    const payload = Buffer.from(envelope.data, 'base64');
    message = parse(decodeJson(payload, `${name} message`));
  } catch (error) {
    log.error(
      { reason: errorMessage(error) },
      `${name}: rejected a malformed message (acknowledged, not retried)`,
    );
    return;
  }
  log.debug({ deliveryAttempt: envelope.deliveryAttempt }, `${name}: invoked`);
  try {
    await work(message, {
      runtime,
      messageId: envelope.messageId,
      publishTime: envelope.publishTime,
      deliveryAttempt: envelope.deliveryAttempt,
      deadline,
      log,
    });
  } catch (error) {
    if (isRetryable(error)) {
      log.warn(
        { reason: errorMessage(error) },
        `${name}: transient failure, asking Pub/Sub to redeliver`,
      );
      throw error;
    }
    log.error(
      { reason: errorMessage(error) },
      `${name}: permanent failure (acknowledged, not retried)`,
    );
  }
}

/** What a handler needs from a push envelope, read without trusting its shape. */
export interface Envelope {
  data: string;
  messageId: string;
  publishTime: string;
  deliveryAttempt: number;
  /** Why the envelope is not a Pub/Sub message; such a delivery is acknowledged. */
  problem?: string;
}

/** Reads a CloudEvent's Pub/Sub envelope; never throws, whatever was posted. */
export function envelopeOf(event: unknown): Envelope {
  const record = (v: unknown): Record<string, unknown> | undefined =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  const text = (v: unknown): string | undefined =>
    typeof v === 'string' && v.length <= 256 ? v : undefined;
  // A time that reads as one (Pub/Sub always sends one); anything else is no publish time at all.
  const time = (v: unknown): string | undefined => {
    const t = text(v);
    return t !== undefined && !Number.isNaN(Date.parse(t)) && Math.abs(Date.parse(t)) < 8.64e15
      ? new Date(Date.parse(t)).toISOString()
      : undefined;
  };
  const e = record(event);
  const data = record(e?.['data']);
  const message = record(data?.['message']);
  const attempt = data?.['deliveryAttempt'];
  const envelope: Envelope = {
    data: typeof message?.['data'] === 'string' ? message['data'] : '',
    messageId: text(message?.['messageId']) ?? text(e?.['id']) ?? 'unknown',
    publishTime: time(message?.['publishTime']) ?? time(e?.['time']) ?? new Date().toISOString(),
    deliveryAttempt:
      typeof attempt === 'number' && Number.isSafeInteger(attempt) && attempt >= 1 ? attempt : 1,
  };
  if (!data) envelope.problem = 'the event carries no data';
  else if (!message) envelope.problem = 'the event data carries no Pub/Sub message';
  else if (message['data'] !== undefined && typeof message['data'] !== 'string')
    envelope.problem = 'message.data is not a base64 string';
  return envelope;
}
