import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/**
 * What ties a log line to one function invocation, as the Functions
 * Framework's own logger ties its lines: the execution id (written as the
 * label `execution_id`) and the trace Cloud Logging groups lines by.
 */
export interface LogContext {
  executionId: string;
  /** `projects/<project>/traces/<trace id>`, the form `logging.googleapis.com/trace` takes. */
  trace: string;
}

const current = new AsyncLocalStorage<LogContext>();

/**
 * Runs `work` with a log context: every line logged while it runs, however
 * deep in the calls and awaits it is written, carries the context's ids.
 */
export function withLogContext<T>(context: LogContext, work: () => T): T {
  return current.run(context, work);
}

/** The context of the invocation running now; undefined outside one. */
export function currentLogContext(): LogContext | undefined {
  return current.getStore();
}

/** A fresh execution id, 12 characters as the Functions Framework makes them. */
export function newExecutionId(): string {
  return randomBytes(6).toString('hex');
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The trace of an invocation: the one its event carries (a CloudEvent's
 * W3C `traceparent`, which Eventarc and Pub/Sub set), or a fresh one, so
 * an invocation's lines are grouped even when nothing traced it.
 */
export function invocationTrace(project: string, traceparent: unknown): string {
  const traceId =
    (typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent)?.[1] : undefined) ??
    randomBytes(16).toString('hex');
  return `projects/${project}/traces/${traceId}`;
}
