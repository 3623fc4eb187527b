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
/** `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS`, which Google's front ends set on HTTP requests. */
const CLOUD_TRACE_CONTEXT = /^([0-9a-f]{32})(?:\/\d*)?(?:;o=\d+)?$/i;
/** What an execution id may look like: it becomes a log label, so a caller cannot put anything there. */
const EXECUTION_ID = /^[A-Za-z0-9_-]{1,64}$/;

const traceIdOfTraceparent = (traceparent: unknown): string | undefined =>
  typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent)?.[1] : undefined;

/** A trace in the form Cloud Logging reads; a fresh trace id when the caller sent none. */
const traceName = (project: string, traceId: string | undefined): string =>
  `projects/${project}/traces/${traceId ?? randomBytes(16).toString('hex')}`;

/**
 * The trace of an invocation: the one its event carries (a CloudEvent's
 * W3C `traceparent`, which Eventarc and Pub/Sub set), or a fresh one, so
 * an invocation's lines are grouped even when nothing traced it.
 */
export function invocationTrace(project: string, traceparent: unknown): string {
  return traceName(project, traceIdOfTraceparent(traceparent));
}

/** HTTP request headers as node:http gives them (names in lower case). */
export type RequestHeaders = Record<string, string | string[] | undefined>;

const header = (headers: RequestHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * The log context of one HTTP request, from the headers the Functions
 * Framework reads: `Function-Execution-Id` (a fresh id without one), and the
 * trace of `X-Cloud-Trace-Context`, else of a W3C `traceparent`, else a fresh
 * trace.
 */
export function requestLogContext(project: string, headers: RequestHeaders): LogContext {
  const executionId = header(headers, 'function-execution-id');
  const cloudTrace = CLOUD_TRACE_CONTEXT.exec(header(headers, 'x-cloud-trace-context') ?? '');
  const traceId =
    cloudTrace?.[1]?.toLowerCase() ?? traceIdOfTraceparent(header(headers, 'traceparent'));
  return {
    executionId:
      executionId !== undefined && EXECUTION_ID.test(executionId) ? executionId : newExecutionId(),
    trace: traceName(project, traceId),
  };
}
