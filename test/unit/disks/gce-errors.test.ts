import { strict as assert } from 'node:assert';
import { PermanentError, TransientError } from '../../../shared/errors.js';
import {
  classifyComputeError,
  failedFromError,
  operationFailure,
} from '../../../shared/disks/gce-errors.js';

/** What google-gax's REST transport throws: gRPC code plus the HTTP status. */
function googleError(httpStatusCode: number, code: number, message: string): Error {
  return Object.assign(new Error(message), { httpStatusCode, code });
}

describe('Compute Engine error classification', () => {
  it('tells missing, existing, quota, denied, invalid and transient apart', () => {
    const kinds = [
      googleError(404, 5, "The resource 'projects/p/zones/z/disks/d' was not found"),
      googleError(409, 10, "The resource 'projects/p/global/snapshots/s' already exists"),
      googleError(409, 10, "The disk resource 'd' is already being used by 'instances/vm'"),
      googleError(403, 7, "Quota 'SNAPSHOTS' exceeded.  Limit: 1000.0 globally."),
      googleError(429, 8, 'Rate Limit Exceeded'),
      googleError(403, 7, "Required 'compute.snapshots.create' permission for 'projects/p'"),
      googleError(400, 3, "Invalid value for field 'resource.name'"),
      googleError(503, 14, 'Backend Error'),
      Object.assign(new Error('Total timeout of API exceeded'), { code: 4 }),
      new PermanentError('bad zone'),
      new TransientError('lost a race'),
    ].map((e) => {
      const c = classifyComputeError(e);
      return `${c.kind}:${c.retryable}`;
    });
    assert.deepEqual(kinds, [
      'not-found:false',
      'already-exists:false',
      'transient:true',
      'quota:false',
      'quota:true',
      'denied:false',
      'invalid:false',
      'transient:true',
      'transient:true',
      'invalid:false',
      'transient:true',
    ]);
  });

  it('puts the HTTP status in the reason', () => {
    const failed = failedFromError('snapshot s of disk d', googleError(404, 5, 'not found'));
    assert.deepEqual(failed, {
      status: 'FAILED',
      reason: 'snapshot s of disk d: not found (HTTP 404)',
      retryable: false,
    });
  });

  it("reads a DONE operation's error.errors[], and treats an operation without errors as success", () => {
    const failure = operationFailure('disk d', {
      name: 'operation-1',
      status: 'DONE',
      error: {
        errors: [
          { code: 'QUOTA_EXCEEDED', message: "Quota 'SSD_TOTAL_GB' exceeded." },
          { code: 'INTERNAL_ERROR', message: 'oops' },
        ],
      },
    });
    assert.deepEqual(failure, {
      status: 'FAILED',
      reason:
        "disk d: operation operation-1 failed: QUOTA_EXCEEDED: Quota 'SSD_TOTAL_GB' exceeded.; INTERNAL_ERROR: oops",
      retryable: false,
    });
    assert.equal(operationFailure('disk d', { name: 'operation-2', status: 'DONE' }), undefined);
  });
});
