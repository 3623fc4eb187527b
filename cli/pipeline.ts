import { randomBytes } from 'node:crypto';
import { PubSub } from '@google-cloud/pubsub';
import type { Subscription } from '../shared/bus/bus.js';
import { PubSubBus } from '../shared/bus/pubsub-bus.js';
import { topicName, type TopicRole } from '../shared/bus/topics.js';
import { errorMessage } from '../shared/errors.js';
import {
  decodeJson,
  parseMessage,
  type MessageKind,
  type MessageOf,
} from '../shared/messages/index.js';
import { UsageError } from './exit-codes.js';
import { parseDurationFlag, requireSetting } from './options.js';
import { Progress } from './progress.js';

/** How to reach a deployed pipeline. */
export interface PipelineFlags {
  project?: string;
  topicPrefix: string;
  timeout?: string;
}

function projectOf(flags: PipelineFlags): string {
  return requireSetting(
    flags.project ?? process.env['LIFEBOAT_PROJECT'] ?? process.env['GOOGLE_CLOUD_PROJECT'],
    '--project',
    undefined,
    'the Google Cloud project Lifeboat is deployed in (or set LIFEBOAT_PROJECT)',
  );
}

/** A message built from flags, checked against its schema: a problem is a usage error (exit 2). */
export function messageFromFlags<K extends MessageKind>(kind: K, value: unknown): MessageOf<K> {
  try {
    return parseMessage(kind, value);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Publishes one message to a pipeline topic; resolves to its message id. */
export async function publishOnly(
  flags: PipelineFlags,
  role: TopicRole,
  message: unknown,
): Promise<{ messageId: string; topic: string; project: string }> {
  const project = projectOf(flags);
  const topic = topicName(flags.topicPrefix, role);
  const bus = new PubSubBus(pubsubFor(project));
  try {
    return { messageId: await bus.publish(topic, message), topic, project };
  } catch (error) {
    throw publishError(error, topic, project, flags.topicPrefix);
  } finally {
    await bus.close();
  }
}

/** The innermost cause: for a failed publish, the gRPC status under our TransientError. */
function rootCause(error: unknown): unknown {
  let e = error;
  for (let i = 0; i < 5 && e instanceof Error && e.cause !== undefined; i++) e = e.cause;
  return e;
}

const causeOf = (error: unknown): string => errorMessage(rootCause(error));

const deployedHint = (prefix: string): string =>
  `is Lifeboat deployed there with --topic-prefix ${prefix}?`;

/** A topic that does not exist is configuration (exit 2); anything else a failure to run (1). */
function publishError(error: unknown, topic: string, project: string, prefix: string): Error {
  const where = `cannot publish to topic ${topic} in project ${project} (${causeOf(error)})`;
  const code = (rootCause(error) as { code?: unknown }).code;
  return code === 5 ? new UsageError(`${where}: ${deployedHint(prefix)}`) : new Error(where);
}

/**
 * A Pub/Sub client for the project. On the emulator no credentials are
 * needed, so the auth library is told not to probe for a GCE metadata
 * server (which otherwise prints a MetadataLookupWarning off Google Cloud).
 */
function pubsubFor(projectId: string): PubSub {
  if (process.env['PUBSUB_EMULATOR_HOST']) process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  return new PubSub({ projectId });
}

interface Route {
  publishTo: TopicRole;
  answer: MessageKind;
  completedOn: TopicRole;
}

/**
 * Each request the CLI follows to its answer: the topic the request is
 * published to, the kind of its answer, and the topic the answer comes on.
 */
const FOLLOWED = {
  ClusterBackupJob: {
    publishTo: 'backup-jobs',
    answer: 'BackupCompleted',
    completedOn: 'backup-completed',
  },
  RestoreRequest: {
    publishTo: 'restore',
    answer: 'RestoreCompleted',
    completedOn: 'restore-completed',
  },
  DrillJob: { publishTo: 'drill', answer: 'DrillCompleted', completedOn: 'drill-completed' },
} as const satisfies Partial<Record<MessageKind, Route>>;

/** The requests a CLI command can publish and follow to their answer. */
export type FollowedRequest = keyof typeof FOLLOWED;
type AnswerTo<R extends FollowedRequest> = (typeof FOLLOWED)[R]['answer'];

export interface Follow<R extends FollowedRequest> {
  request: MessageOf<R> & { kind: R };
  matches: (m: MessageOf<AnswerTo<R>>) => boolean;
  /** What is awaited, for progress and the timeout message. */
  what: string;
}

/**
 * Publishes a message and waits for the pipeline's answer. The temporary
 * subscription to the completion topic exists before the message is
 * published (so the answer cannot be missed) and is deleted afterwards,
 * also on timeout and on Ctrl-C.
 */
export async function publishAndFollow<R extends FollowedRequest>(
  flags: PipelineFlags,
  follow: Follow<R>,
): Promise<MessageOf<AnswerTo<R>>> {
  const project = projectOf(flags);
  const timeoutMs = parseDurationFlag(flags.timeout ?? '30m', '--timeout');
  const pubsub = pubsubFor(project);
  const bus = new PubSubBus(pubsub);
  const name = `${flags.topicPrefix}cli-${randomBytes(4).toString('hex')}`;
  const route: { publishTo: TopicRole; answer: AnswerTo<R>; completedOn: TopicRole } =
    FOLLOWED[follow.request.kind];
  const completed = topicName(flags.topicPrefix, route.completedOn);
  let subscription: Subscription | undefined;
  const cleanup = async (): Promise<void> => {
    await subscription?.close().catch(() => undefined);
    await pubsub
      .subscription(name)
      .delete()
      .catch(() => undefined);
    await bus.close().catch(() => undefined);
  };
  const onSignal = (): void => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    let arrived: (m: MessageOf<AnswerTo<R>>) => void = () => undefined;
    const answer = new Promise<MessageOf<AnswerTo<R>>>((resolve) => (arrived = resolve));
    try {
      subscription = await bus.subscribe(completed, name, async (delivery) => {
        let message: MessageOf<AnswerTo<R>>;
        try {
          message = parseMessage(route.answer, decodeJson(delivery.data, completed));
        } catch {
          return; // not an answer we can read: someone else's
        }
        if (follow.matches(message)) arrived(message);
      });
    } catch (error) {
      throw new UsageError(
        `cannot subscribe to topic ${completed} in project ${project} (${causeOf(error)}): ${deployedHint(flags.topicPrefix)}`,
      );
    }
    const publishTo = topicName(flags.topicPrefix, route.publishTo);
    const messageId = await bus.publish(publishTo, follow.request).catch((error: unknown) => {
      throw publishError(error, publishTo, project, flags.topicPrefix);
    });
    return await waitFor(answer, timeoutMs, follow.what, messageId);
  } finally {
    process.off('SIGINT', onSignal);
    await cleanup();
  }
}

async function waitFor<T>(answer: Promise<T>, timeoutMs: number, what: string, id: string) {
  const progress = new Progress(5000);
  const started = Date.now();
  const tick = setInterval(() => {
    progress.update(
      `waiting for ${what} (message ${id}, ${Math.round((Date.now() - started) / 1000)}s)`,
    );
  }, 1000);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `no ${what} within ${Math.round(timeoutMs / 1000)}s; the pipeline may still be working (raise --timeout, or look later with backup/restore/drill describe)`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearInterval(tick);
    clearTimeout(timer);
    progress.done();
  }
}
