import {
  errorMessage,
  LifeboatError,
  NotFoundError,
  PermanentError,
  TransientError,
} from '../errors.js';

/**
 * gRPC codes (google-gax's Status) after which a later attempt can pass:
 * CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED (429), ABORTED,
 * INTERNAL, UNAVAILABLE (503).
 */
const RETRYABLE_GRPC = new Set([1, 4, 8, 10, 13, 14]);
const GRPC_NOT_FOUND = 5;

/**
 * A Container API failure as a Lifeboat error, with `context` saying what
 * was attempted ("list clusters in projects/p/locations/-"). The REST
 * transport of google-gax turns an HTTP error into a GoogleError whose
 * `code` is the gRPC status and keeps the HTTP status in `httpStatusCode`;
 * the shared `statusOf` would read the gRPC code as an HTTP one, so the
 * container errors are classified here. An error with neither (a refused
 * connection, a reset) is a network failure: transient.
 */
export function containerError(context: string, error: unknown): LifeboatError {
  if (error instanceof LifeboatError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    httpStatusCode?: unknown;
  };
  const http = typeof e.httpStatusCode === 'number' ? e.httpStatusCode : undefined;
  const grpc = typeof e.code === 'number' ? e.code : undefined;
  const status = http === undefined ? '' : ` (HTTP ${http})`;
  const message = `Unable to ${context}${status}: ${errorMessage(error)}`;
  if (http === 404 || (http === undefined && grpc === GRPC_NOT_FOUND)) {
    return new NotFoundError(message, error);
  }
  if (http !== undefined) {
    return http === 408 || http === 429 || http >= 500
      ? new TransientError(message, error)
      : new PermanentError(message, error);
  }
  if (grpc !== undefined && !RETRYABLE_GRPC.has(grpc)) return new PermanentError(message, error);
  return new TransientError(message, error);
}
