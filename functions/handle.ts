import type { CloudEvent } from '@google-cloud/functions-framework';
import { cloudEvent } from '@google-cloud/functions-framework';
import { decodeJson } from '../shared/messages/index.js';
import { errorMessage, isRetryable } from '../shared/errors.js';
import { getRuntime, type Runtime } from './runtime.js';
import type { Logger } from '../shared/log/logger.js';
import type { FunctionName } from './registry.js';

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
  deadline: number;
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
    const started = Date.now();
    const runtime = getRuntime();
    const log = runtime.logger.child({
      function: name,
      messageId: event.data?.message.messageId ?? event.id,
    });
    let message: T;
    try {
      const payload = Buffer.from(event.data?.message.data ?? '', 'base64');
      message = parse(decodeJson(payload, `${name} message`));
    } catch (error) {
      log.error(
        { reason: errorMessage(error) },
        `${name}: rejected a malformed message (acknowledged, not retried)`,
      );
      return;
    }
    log.debug({ deliveryAttempt: event.data?.deliveryAttempt }, `${name}: invoked`);
    try {
      await work(message, {
        runtime,
        messageId: event.data?.message.messageId ?? event.id,
        publishTime: event.data?.message.publishTime ?? event.time ?? new Date().toISOString(),
        deliveryAttempt: event.data?.deliveryAttempt ?? 1,
        deadline: started + WORK_BUDGET_MS,
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
  });
}
