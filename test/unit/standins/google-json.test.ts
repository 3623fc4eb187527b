import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import {
  ApiFailure,
  isJsonObject,
  readRestCall,
  stringFields,
} from '../../../local/standins/google-json.js';

/** A request as the HTTP server hands it over: a readable body with a method and a URL. */
function request(method: string, url: string, body: string): IncomingMessage {
  return Object.assign(Readable.from(body === '' ? [] : [Buffer.from(body)]), {
    method,
    url,
  }) as unknown as IncomingMessage;
}

describe('Google REST JSON in the stand-ins', function () {
  it('reads a call: verb, URL, JSON body and the enum encoding asked for', async function () {
    const call = await readRestCall(
      request('POST', '/v1/projects/p?$alt=json;enum-encoding=int', '{"a":1}'),
      'http://127.0.0.1:9',
    );
    assert.equal(call.verb, 'POST');
    assert.equal(call.url.pathname, '/v1/projects/p');
    assert.deepEqual(call.body, { a: 1 });
    assert.equal(call.numericEnums, true);

    const plain = await readRestCall(request('GET', '/v1/x?$alt=json', ''), 'http://h');
    assert.equal(plain.body, null);
    assert.equal(plain.numericEnums, false);
    const broken = await readRestCall(request('POST', '/v1/x', '{not json'), 'http://h');
    assert.equal(broken.body, null);
  });

  it('fails in Google’s shape, the status named after the HTTP code unless given', function () {
    assert.deepEqual(new ApiFailure(404, 'Not found: x.').body(), {
      error: { code: 404, message: 'Not found: x.', status: 'NOT_FOUND' },
    });
    assert.equal(new ApiFailure(504, 'slow').status, 'DEADLINE_EXCEEDED');
    assert.equal(new ApiFailure(418, 'odd').status, 'UNKNOWN');
    assert.deepEqual(
      new ApiFailure(400, 'v is disabled', { status: 'FAILED_PRECONDITION' }).body(),
      {
        error: { code: 400, message: 'v is disabled', status: 'FAILED_PRECONDITION' },
      },
    );
    const denied = new ApiFailure(403, 'denied', {
      errorInfo: { reason: 'IAM_PERMISSION_DENIED', service: 'container.googleapis.com' },
    });
    assert.deepEqual(denied.body(), {
      error: {
        code: 403,
        message: 'denied',
        status: 'PERMISSION_DENIED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'IAM_PERMISSION_DENIED',
            domain: 'googleapis.com',
            metadata: { service: 'container.googleapis.com' },
          },
        ],
      },
    });
  });

  it('answers anything else a handler throws as a 500', function () {
    const known = new ApiFailure(409, 'exists');
    assert.equal(ApiFailure.of(known), known);
    const other = ApiFailure.of(new Error('boom'));
    assert.equal(other.code, 500);
    assert.equal(other.message, 'Error: boom');
    assert.equal(other.status, 'INTERNAL');
  });

  it('tells objects from other JSON and keeps the string fields of a map', function () {
    assert.equal(isJsonObject({ a: 1 }), true);
    assert.equal(isJsonObject([1]), false);
    assert.equal(isJsonObject(null), false);
    assert.equal(isJsonObject(undefined), false);
    assert.deepEqual(stringFields({ a: 'x', b: 2, c: null, d: 'y' }), { a: 'x', d: 'y' });
  });
});
