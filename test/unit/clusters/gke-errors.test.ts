import { strict as assert } from 'node:assert';
import { containerError } from '../../../shared/clusters/gke-errors.js';
import {
  NotFoundError,
  PermanentError,
  TransientError,
  isRetryable,
} from '../../../shared/errors.js';

/** Shaped as google-gax's GoogleError from the REST transport: gRPC `code`, `httpStatusCode` beside it. */
function googleError(code: number, httpStatusCode: number | undefined, message: string): Error {
  return Object.assign(new Error(message), {
    code,
    ...(httpStatusCode === undefined ? {} : { httpStatusCode }),
  });
}

describe('containerError', () => {
  it('turns a 404 into NotFoundError, saying what was attempted and keeping the cause', () => {
    const cause = googleError(5, 404, 'Not found: projects/p/locations/l/clusters/c.');
    const error = containerError('get cluster projects/p/locations/l/clusters/c', cause);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.retryable, false);
    assert.equal(error.cause, cause);
    assert.match(
      error.message,
      /^Unable to get cluster projects\/p\/locations\/l\/clusters\/c \(HTTP 404\): Not found/,
    );
  });

  it('retries 429, 408 and 5xx; not 400 and 403', () => {
    for (const [grpc, http] of [
      [8, 429],
      [4, 408],
      [13, 500],
      [14, 503],
    ] as const) {
      const error = containerError('list', googleError(grpc, http, 'x'));
      assert.ok(error instanceof TransientError, `HTTP ${http}`);
      assert.equal(isRetryable(error), true);
    }
    for (const [grpc, http] of [
      [3, 400],
      [7, 403],
      [16, 401],
    ] as const) {
      const error = containerError('list', googleError(grpc, http, 'x'));
      assert.ok(
        error instanceof PermanentError && !(error instanceof NotFoundError),
        `HTTP ${http}`,
      );
      assert.equal(isRetryable(error), false);
    }
  });

  it('reads the gRPC code when there is no HTTP status', () => {
    assert.ok(containerError('get', googleError(5, undefined, 'gone')) instanceof NotFoundError);
    assert.ok(containerError('get', googleError(14, undefined, 'down')) instanceof TransientError);
    assert.ok(containerError('get', googleError(3, undefined, 'bad')) instanceof PermanentError);
  });

  it('treats an error with no status (a refused connection) as transient', () => {
    const error = containerError(
      'list',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    assert.ok(error instanceof TransientError);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('passes Lifeboat errors through unchanged', () => {
    const original = new PermanentError('bad policy');
    assert.equal(containerError('list', original), original);
  });
});
