import type { protos } from '@google-cloud/compute';
import { errorMessage, LifeboatError } from '../errors.js';
import type { Failed } from './disk-snapshotter.js';

/**
 * What a Compute Engine error means for Lifeboat. The REST transport of
 * google-gax turns an HTTP error into a GoogleError whose `code` is the gRPC
 * status (409 becomes ABORTED, 404 NOT_FOUND) and keeps the HTTP status in
 * `httpStatusCode`; the shared `statusOf` reads neither, so disks classify
 * their own errors here.
 */
export type ComputeErrorKind =
  'not-found' | 'already-exists' | 'quota' | 'denied' | 'invalid' | 'transient';

export interface ComputeError {
  kind: ComputeErrorKind;
  httpStatus?: number;
  message: string;
  retryable: boolean;
}

/** gRPC codes (google-gax's Status) that say "try again later". */
const RETRYABLE_GRPC = new Set([
  1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10, 13, 14,
]);
const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;

export function classifyComputeError(error: unknown): ComputeError {
  if (error instanceof LifeboatError) {
    return {
      kind: error.retryable ? 'transient' : 'invalid',
      message: error.message,
      retryable: error.retryable,
    };
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    httpStatusCode?: unknown;
  };
  const httpStatus = typeof e.httpStatusCode === 'number' ? e.httpStatusCode : undefined;
  const grpc = typeof e.code === 'number' ? e.code : undefined;
  const message = errorMessage(error);
  const base = { message, ...(httpStatus === undefined ? {} : { httpStatus }) };
  if (httpStatus === 404 || (httpStatus === undefined && grpc === GRPC_NOT_FOUND)) {
    return { ...base, kind: 'not-found', retryable: false };
  }
  // 409 also means "resource busy" (resourceInUseByAnotherResource, resourceNotReady): only the
  // message tells an existing name apart from a lost race.
  if ((httpStatus === 409 || grpc === GRPC_ALREADY_EXISTS) && /already exists/i.test(message)) {
    return { ...base, kind: 'already-exists', retryable: false };
  }
  if ((httpStatus === 403 || httpStatus === 429) && /quota|rate limit/i.test(message)) {
    // A per-minute rate limit passes; an exhausted quota needs a person.
    return { ...base, kind: 'quota', retryable: httpStatus === 429 || /rate/i.test(message) };
  }
  if (httpStatus === 401 || httpStatus === 403)
    return { ...base, kind: 'denied', retryable: false };
  if (
    httpStatus !== undefined &&
    httpStatus >= 400 &&
    httpStatus < 500 &&
    httpStatus !== 408 &&
    httpStatus !== 409
  ) {
    return { ...base, kind: 'invalid', retryable: false };
  }
  if (httpStatus === undefined && grpc !== undefined && !RETRYABLE_GRPC.has(grpc)) {
    return { ...base, kind: 'invalid', retryable: false };
  }
  return { ...base, kind: 'transient', retryable: true };
}

/** A FAILED outcome for `what` ("snapshot lb-x of projects/p/zones/z/disks/d") from a thrown error. */
export function failedFromError(what: string, error: unknown): Failed {
  const c = classifyComputeError(error);
  const status = c.httpStatus === undefined ? '' : ` (HTTP ${c.httpStatus})`;
  return { status: 'FAILED', reason: `${what}: ${c.message}${status}`, retryable: c.retryable };
}

/** Operation error codes worth retrying; QUOTA_EXCEEDED and RESOURCE_NOT_FOUND are not among them. */
const RETRYABLE_OPERATION_CODES = new Set([
  'INTERNAL_ERROR',
  'RESOURCE_NOT_READY',
  'RATE_LIMIT_EXCEEDED',
  'RESOURCE_OPERATION_RATE_EXCEEDED',
  'SERVICE_UNAVAILABLE',
  'ZONE_RESOURCE_POOL_EXHAUSTED',
  'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS',
]);

/**
 * The failure carried by a finished operation (`error.errors[]`), or
 * undefined when it succeeded. A DONE operation can still have failed: that
 * is what Velero's GCP plugin never looked at.
 */
export function operationFailure(
  what: string,
  operation: protos.google.cloud.compute.v1.IOperation,
): Failed | undefined {
  const errors = operation.error?.errors ?? [];
  if (errors.length === 0) return undefined;
  const details = errors.map((e) => `${e.code ?? 'UNKNOWN'}: ${e.message ?? ''}`.trim()).join('; ');
  const retryable = errors.every((e) => RETRYABLE_OPERATION_CODES.has(e.code ?? ''));
  return {
    status: 'FAILED',
    reason: `${what}: operation ${operation.name ?? ''} failed: ${details}`,
    retryable,
  };
}
