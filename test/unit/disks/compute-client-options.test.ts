import { strict as assert } from 'node:assert';
import { PassThroughClient } from 'google-auth-library';
import { computeClientOptions } from '../../../shared/disks/compute-client-options.js';

describe('computeClientOptions', () => {
  it('uses the real API with default credentials when no endpoint is set', () => {
    assert.deepEqual(computeClientOptions(), { fallback: true });
    assert.deepEqual(computeClientOptions(''), { fallback: true });
  });

  it('reaches an http:// stand-in over plain HTTP with no credentials', () => {
    const options = computeClientOptions('http://127.0.0.1:8123');
    assert.equal(options.apiEndpoint, '127.0.0.1');
    assert.equal(options.port, 8123);
    assert.equal(options.protocol, 'http');
    assert.equal(options.fallback, true);
    assert.ok(options.authClient instanceof PassThroughClient);
  });

  it('keeps https and its credentials for any other endpoint', () => {
    const options = computeClientOptions('https://compute.example.com');
    assert.deepEqual(
      { ...options },
      { fallback: true, apiEndpoint: 'compute.example.com', port: 443 },
    );
  });

  it('rejects endpoints the client cannot use', () => {
    assert.throws(() => computeClientOptions('compute.googleapis.com'), /is not a URL/);
    assert.throws(() => computeClientOptions('http://127.0.0.1:1/compute/v1'), /must have no path/);
    assert.throws(() => computeClientOptions('ftp://host'), /must be http:\/\/ or https:\/\//);
  });
});
