import { strict as assert } from 'node:assert';
import { crc32c } from '../../../shared/crypto/crc32c.js';
import { KmsKeyWrapper } from '../../../shared/crypto/kms-key-wrapper.js';
import { TransientError } from '../../../shared/errors.js';

const KEY = 'projects/p/locations/l/keyRings/r/cryptoKeys/k';

/** A wrapper whose Cloud KMS client answers as given (the client is loaded lazily, so it is set in its place). */
function wrapperAnswering(client: {
  encrypt?: () => Promise<unknown[]>;
  decrypt?: () => Promise<unknown[]>;
}): KmsKeyWrapper {
  const wrapper = new KmsKeyWrapper(KEY);
  (wrapper as unknown as { clientPromise: Promise<unknown> }).clientPromise =
    Promise.resolve(client);
  return wrapper;
}

function corrupted(operation: string, which: string) {
  return (error: unknown) =>
    error instanceof TransientError &&
    error.message ===
      `Cloud KMS key ${KEY} could not ${operation}: ${which} did not match (corrupted in transit; retried)`;
}

/** Responses whose checksums do not match are retried (the integration suite covers the matching ones). */
describe('KmsKeyWrapper checksums of answers', () => {
  const bytes = Buffer.from('wrapped data key');

  it('wrap: returns the ciphertext when both checksums agree', async () => {
    const wrapper = wrapperAnswering({
      encrypt: async () => [
        {
          ciphertext: bytes,
          ciphertextCrc32c: { value: crc32c(bytes) },
          verifiedPlaintextCrc32c: true,
        },
      ],
    });
    assert.deepEqual(await wrapper.wrap(Buffer.alloc(32)), bytes);
  });

  it('wrap: a ciphertext that does not match its checksum, or a data key KMS did not verify, is retried', async () => {
    const wrongCrc = wrapperAnswering({
      encrypt: async () => [
        {
          ciphertext: bytes,
          ciphertextCrc32c: { value: crc32c(bytes) + 1 },
          verifiedPlaintextCrc32c: true,
        },
      ],
    });
    await assert.rejects(
      wrongCrc.wrap(Buffer.alloc(32)),
      corrupted('wrap (encrypt) the data key', 'a checksum'),
    );
    const unverified = wrapperAnswering({
      encrypt: async () => [
        {
          ciphertext: bytes,
          ciphertextCrc32c: { value: crc32c(bytes) },
          verifiedPlaintextCrc32c: false,
        },
      ],
    });
    await assert.rejects(
      unverified.wrap(Buffer.alloc(32)),
      corrupted('wrap (encrypt) the data key', 'a checksum'),
    );
  });

  it('unwrap: returns the plaintext when it matches its checksum, and retries when not', async () => {
    const intact = wrapperAnswering({
      decrypt: async () => [{ plaintext: bytes, plaintextCrc32c: { value: crc32c(bytes) } }],
    });
    assert.deepEqual(await intact.unwrap(Buffer.from('x')), bytes);
    const damaged = wrapperAnswering({
      decrypt: async () => [{ plaintext: bytes, plaintextCrc32c: { value: 0 } }],
    });
    await assert.rejects(
      damaged.unwrap(Buffer.from('x')),
      corrupted('unwrap (decrypt) the data key', 'the plaintext checksum'),
    );
  });
});
