/**
 * The JSON Compute Engine's REST API (compute/v1) answers with, built from
 * the stand-in's state: resources carry full self links, int64 fields are
 * strings, and errors use the API's `{error: {code, message, errors[]}}`
 * envelope.
 */

export const API_ROOT = 'https://www.googleapis.com/compute/v1/';

export const link = (path: string): string => `${API_ROOT}${path}`;

export type Json = Record<string, unknown>;

export interface ApiError {
  status: number;
  body: Json;
}

/** One error of the API's envelope; `reason` is the legacy reason (notFound, alreadyExists, quotaExceeded). */
export function apiError(
  status: number,
  reason: string,
  message: string,
  domain = 'global',
): ApiError {
  return {
    status,
    body: { error: { code: status, message, errors: [{ message, domain, reason }] } },
  };
}

export const notFound = (path: string): ApiError =>
  apiError(404, 'notFound', `The resource '${path}' was not found`);

export const alreadyExists = (path: string): ApiError =>
  apiError(409, 'alreadyExists', `The resource '${path}' already exists`);

/** 400 resourceInUseByAnotherResource: e.g. a snapshot a disk is being created from. */
export const inUse = (kind: string, path: string, user: string): ApiError =>
  apiError(
    400,
    'resourceInUseByAnotherResource',
    `The ${kind} resource '${path}' is already being used by '${user}'`,
  );

/** 400 resourceNotReady: e.g. deleting a snapshot still being created or deleted. */
export const notReady = (path: string): ApiError =>
  apiError(400, 'resourceNotReady', `The resource '${path}' is not ready`);

export const invalid = (field: string, message: string): ApiError =>
  apiError(400, 'invalid', `Invalid value for field '${field}': ${message}`);

export const quotaExceeded = (metric: string, limit: number, where: string): ApiError =>
  apiError(
    403,
    'quotaExceeded',
    `Quota '${metric}' exceeded.  Limit: ${limit.toFixed(1)} ${where}.`,
    'usageLimits',
  );

/** Thrown inside handlers and turned into the error response. */
export class ApiFailure extends Error {
  constructor(readonly error: ApiError) {
    super(String((error.body['error'] as { message?: unknown }).message));
  }
}

let nextId = 4_000_000_000_000_000_000n;

/** Resource ids are uint64 decimal strings in JSON. */
export function newId(): string {
  nextId += 7919n;
  return nextId.toString();
}

export function timestamp(): string {
  return new Date().toISOString().replace('Z', '-00:00');
}

export const RFC1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
export const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

/** Checks labels as the API does; throws the API's 400 on the first bad one. */
export function checkLabels(labels: unknown): Record<string, string> {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== 'object') throw new ApiFailure(invalid('resource.labels', 'must be a map'));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    if (!LABEL_KEY.test(key))
      throw new ApiFailure(invalid(`resource.labels`, `label key '${key}' is invalid`));
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      throw new ApiFailure(
        invalid(`resource.labels`, `label value '${String(value)}' of '${key}' is invalid`),
      );
    }
    out[key] = value;
  }
  return out;
}

export function checkName(name: unknown): string {
  if (typeof name !== 'string' || !RFC1035.test(name)) {
    throw new ApiFailure(
      invalid(
        'resource.name',
        `'${String(name)}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      ),
    );
  }
  return name;
}
