import type { IncomingMessage } from 'node:http';
import { readRequestText } from './loopback-standin.js';

/**
 * JSON as Google's REST APIs speak it (the proto3 JSON mapping) and the
 * `{error: {code, message, status}}` shape they fail with: shared by the
 * Container and Cloud KMS stand-ins.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isJsonObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The string-valued fields of an object (a map<string, string> such as labels). */
export function stringFields(v: JsonObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/** A call to a Google REST API, as a stand-in reads it. */
export interface RestCall {
  verb: string;
  url: URL;
  /** null when the request has no body or one that is not JSON. */
  body: Json;
  /** Enums go by number (`$alt=json;enum-encoding=int`, which the REST transport always asks for). */
  numericEnums: boolean;
}

/** Reads a request to the stand-in at `base` (its http://127.0.0.1:PORT). */
export async function readRestCall(req: IncomingMessage, base: string): Promise<RestCall> {
  const text = await readRequestText(req);
  const url = new URL(req.url ?? '/', base);
  return {
    verb: req.method ?? 'GET',
    url,
    body: parseJsonBody(text),
    numericEnums: (url.searchParams.get('$alt') ?? '').includes('enum-encoding=int'),
  };
}

function parseJsonBody(text: string): Json {
  if (!text) return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return null;
  }
}

/** google.rpc.Code names by HTTP status, as Google's APIs pair them. */
const STATUS_BY_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export interface ApiFailureOptions {
  /** The google.rpc.Code name when it is not the one the HTTP status implies (FAILED_PRECONDITION is a 400). */
  status?: string;
  /** A google.rpc.ErrorInfo detail: why, and which service says so. */
  errorInfo?: { reason: string; service: string };
}

/**
 * A failed call, thrown inside a stand-in's handlers and answered in
 * Google's shape: `{error: {code, message, status, details?}}`.
 */
export class ApiFailure extends Error {
  readonly status: string;
  private readonly errorInfo: ApiFailureOptions['errorInfo'];

  constructor(
    readonly code: number,
    message: string,
    options: ApiFailureOptions = {},
  ) {
    super(message);
    this.status = options.status ?? STATUS_BY_HTTP[code] ?? 'UNKNOWN';
    this.errorInfo = options.errorInfo;
  }

  /** What a handler threw, as the answer: a 500 unless it is an ApiFailure already. */
  static of(error: unknown): ApiFailure {
    return error instanceof ApiFailure ? error : new ApiFailure(500, String(error));
  }

  body(): JsonObject {
    const error: JsonObject = { code: this.code, message: this.message, status: this.status };
    if (this.errorInfo) {
      error['details'] = [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: this.errorInfo.reason,
          domain: 'googleapis.com',
          metadata: { service: this.errorInfo.service },
        },
      ];
    }
    return { error };
  }
}
