/**
 * Every Lifeboat error says whether trying again can help. Pub/Sub redelivery
 * depends on it: a function rethrows retryable errors so the message comes
 * back, and records and acknowledges the rest.
 */
export class LifeboatError extends Error {
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable;
  }
}

/** A failure that may pass on a later attempt: network, 429, 5xx, a lost race. */
export class TransientError extends LifeboatError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: true, cause });
  }
}

/** A failure no retry can fix: bad input, an unknown cluster, a tampered catalog. */
export class PermanentError extends LifeboatError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, cause });
  }
}

/** Input that failed validation at the edge; `where` names the file, message or flag. */
export class ValidationError extends PermanentError {
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`Invalid ${where}: ${problems.join('; ')}`);
  }
}

export class NotFoundError extends PermanentError {}

/**
 * Node.js error codes that say the same call fails the same way every time:
 * a NUL byte in a path, a name the file system cannot hold, a path through
 * a file.
 */
const DETERMINISTIC_CODES = new Set([
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_ARG_TYPE',
  'ENAMETOOLONG',
  'ENOTDIR',
  'EISDIR',
]);

/** True when an error (ours or a client library's) is worth retrying. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof LifeboatError) return error.retryable;
  if (DETERMINISTIC_CODES.has(String((error as { code?: unknown } | null)?.code))) return false;
  const code = statusOf(error);
  if (code === undefined) return true; // network-level failures carry no status
  return code === 408 || code === 429 || code >= 500;
}

/** The HTTP status carried by a client-library error, if any. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // google-gax REST errors carry a gRPC code in `code` and the HTTP status in `httpStatusCode`.
  const e = error as {
    code?: unknown;
    status?: unknown;
    statusCode?: unknown;
    httpStatusCode?: unknown;
  };
  for (const value of [e.httpStatusCode, e.statusCode, e.status, e.code]) {
    if (typeof value === 'number' && value >= 100 && value < 600) return value;
  }
  return undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Data written by a newer Lifeboat in a format this one cannot read; never guessed at. */
export class NewerFormatError extends PermanentError {}
