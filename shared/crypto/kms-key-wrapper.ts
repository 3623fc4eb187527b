import type { KeyManagementServiceClient } from '@google-cloud/kms';
import {
  errorMessage,
  PermanentError,
  TransientError,
  ValidationError,
  type LifeboatError,
} from '../errors.js';
import { restClientOptions } from '../rest-endpoint.js';
import { crc32c } from './crc32c.js';
import type { KeyWrapper } from './key-wrapper.js';

/** What the `@google-cloud/kms` KeyManagementServiceClient constructor accepts (google-gax ClientOptions). */
export type KmsClientOptions = NonNullable<
  ConstructorParameters<typeof KeyManagementServiceClient>[0]
>;

/** A symmetric CryptoKey's resource name (the `kmsKey` setting, LIFEBOAT_KMS_KEY). */
export const KMS_KEY_NAME =
  /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

/**
 * Client options for a Cloud KMS endpoint (the `kmsEndpoint` setting,
 * LIFEBOAT_KMS_ENDPOINT): the real API when unset, a local stand-in for
 * `http://host:port` (see restClientOptions).
 */
export function kmsClientOptions(endpoint?: string): KmsClientOptions {
  return restClientOptions(endpoint, 'Cloud KMS', '/v1/projects/...');
}

/**
 * Per call: the client retries UNAVAILABLE and DEADLINE_EXCEEDED itself, by
 * default for up to 10 minutes, longer than a function's whole budget. Three
 * attempts of at most 30 s each; past that the error goes to Pub/Sub
 * redelivery as a TransientError.
 */
const CALL_OPTIONS = { timeout: 30_000, maxRetries: 3 };

/** google.rpc.Code values the REST transport puts in an error's `code`. */
const Code = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const RETRYABLE = new Set<number>([
  Code.CANCELLED,
  Code.UNKNOWN,
  Code.DEADLINE_EXCEEDED,
  Code.RESOURCE_EXHAUSTED,
  Code.ABORTED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
]);

type Operation = 'wrap' | 'unwrap';

const VERB: Record<Operation, string> = {
  wrap: 'wrap (encrypt) the data key',
  unwrap: 'unwrap (decrypt) the data key',
};

/** `gcloud kms keys versions ACTION N --key ... ` for the version a message names, if it names one. */
function versionCommand(action: string, message: string): string | undefined {
  const m =
    /projects\/([^/\s]+)\/locations\/([^/\s]+)\/keyRings\/([^/\s]+)\/cryptoKeys\/([^/\s]+)\/cryptoKeyVersions\/(\d+)/.exec(
      message,
    );
  if (!m) return undefined;
  const [, project, location, ring, key, version] = m;
  return `gcloud kms keys versions ${action} ${version} --key ${key} --keyring ${ring} --location ${location} --project ${project}`;
}

/**
 * What a Cloud KMS error means for Lifeboat. The REST transport of
 * google-gax puts the gRPC status in `code` (from the body's `status`)
 * and the HTTP status in `httpStatusCode`. A key version that is not
 * enabled, a missing key and a denied permission are permanent, each with
 * what to do; an unavailable service, a quota and 5xx are retried.
 */
export function kmsError(keyName: string, operation: Operation, error: unknown): LifeboatError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    httpStatusCode?: unknown;
  };
  const grpc = typeof e.code === 'number' ? e.code : undefined;
  const http = typeof e.httpStatusCode === 'number' ? e.httpStatusCode : undefined;
  // A retried call's message lists every attempt's error again: the first line says it.
  const message = errorMessage(error)
    .replace(/ : Previous errors : \[[\s\S]*\]$/, '')
    .trim()
    .replace(/\.$/, '');
  const head = `Cloud KMS key ${keyName} could not ${VERB[operation]}: ${message}`;
  if (grpc === Code.FAILED_PRECONDITION && /is not enabled|current state is/i.test(message)) {
    const state = /current state is:?\s*([A-Z_]+)/.exec(message)?.[1];
    let advice: string;
    if (state === 'DESTROYED') {
      advice =
        'a destroyed key version cannot be recovered: what it wrapped stays unreadable (Secrets in backups sealed under that data key are lost)';
    } else if (state === 'DESTROY_SCHEDULED') {
      const restore = versionCommand('restore', message);
      advice = `restore the key version before its destruction${restore ? ` (${restore})` : ''} and enable it again`;
    } else {
      const enable = versionCommand('enable', message);
      advice = `enable the key version again${enable ? ` (${enable})` : ''}`;
    }
    const stopped =
      operation === 'wrap'
        ? 'no data key can be created with it'
        : 'backups and restores of Secrets need it';
    return new PermanentError(`${head}; ${stopped}: ${advice}`, error);
  }
  if (grpc === Code.NOT_FOUND || http === 404) {
    return new PermanentError(
      `${head}; check LIFEBOAT_KMS_KEY: it must name an existing key (projects/P/locations/L/keyRings/R/cryptoKeys/K)`,
      error,
    );
  }
  if (
    grpc === Code.PERMISSION_DENIED ||
    grpc === Code.UNAUTHENTICATED ||
    http === 401 ||
    http === 403
  ) {
    const permission =
      operation === 'wrap'
        ? 'cloudkms.cryptoKeyVersions.useToEncrypt'
        : 'cloudkms.cryptoKeyVersions.useToDecrypt';
    return new PermanentError(
      `${head}; grant this function's service account ${permission} on the key (roles/cloudkms.cryptoKeyEncrypterDecrypter), and check that LIFEBOAT_KMS_KEY names an existing key`,
      error,
    );
  }
  if (grpc === Code.INVALID_ARGUMENT && /checksum|crc32c/i.test(message)) {
    return new TransientError(`${head} (corrupted in transit; retried)`, error);
  }
  if (grpc === Code.INVALID_ARGUMENT && operation === 'unwrap') {
    return new PermanentError(
      `${head}; the data key in the store was not wrapped with this key, or was altered: set LIFEBOAT_KMS_KEY to the key that wrapped it`,
      error,
    );
  }
  const retryableHttp = http === 429 || (http !== undefined && http >= 500);
  // No status at all: the request never got an answer (network, DNS, a reset).
  const noAnswer = grpc === undefined && http === undefined;
  if (noAnswer || retryableHttp || (grpc !== undefined && RETRYABLE.has(grpc))) {
    return new TransientError(`${head} (retried)`, error);
  }
  return new PermanentError(head, error);
}

function bytes(value: Uint8Array | string | null | undefined): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  return Buffer.from(value ?? new Uint8Array());
}

/** A CRC32C as Cloud KMS requests carry it (an Int64Value). */
const crc32cOf = (data: Buffer): { value: number } => ({ value: crc32c(data) });

/** Which checksum a mismatch names, per operation. */
const MISMATCH: Record<Operation, string> = {
  wrap: 'a checksum',
  unwrap: 'the plaintext checksum',
};

function checksum(value: { value?: unknown } | null | undefined): number | undefined {
  const n = Number(value?.value);
  return value?.value === undefined || value.value === null || Number.isNaN(n) ? undefined : n;
}

/**
 * Wraps the store's data key with a Cloud KMS symmetric key (ENCRYPT_DECRYPT):
 * `encrypt` with the key's primary version, `decrypt` with whichever version
 * the ciphertext names, so the key can be rotated and older wrapped data
 * keys still open while their version is enabled. CRC32C checksums travel
 * both ways, as Cloud KMS recommends. The client library is loaded on first
 * use: it is large, and a function without Secrets never needs it.
 */
export class KmsKeyWrapper implements KeyWrapper {
  readonly id: string;
  private clientPromise: Promise<KeyManagementServiceClient> | undefined;
  private readonly options: KmsClientOptions;

  constructor(
    readonly keyName: string,
    options: { endpoint?: string | undefined } = {},
  ) {
    if (!KMS_KEY_NAME.test(keyName)) {
      throw new ValidationError(`Cloud KMS key "${keyName}"`, [
        'must be a key resource name: projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY',
      ]);
    }
    this.id = `kms:${keyName}`;
    this.options = kmsClientOptions(options.endpoint);
  }

  private client(): Promise<KeyManagementServiceClient> {
    this.clientPromise ??= import('@google-cloud/kms').then(
      ({ KeyManagementServiceClient }) => new KeyManagementServiceClient(this.options),
    );
    return this.clientPromise;
  }

  /** One call to Cloud KMS, its failure named with the key and the operation. */
  private async call<T>(
    operation: Operation,
    send: (client: KeyManagementServiceClient) => Promise<readonly [T, ...unknown[]]>,
  ): Promise<T> {
    const client = await this.client();
    try {
      const [response] = await send(client);
      return response;
    } catch (error) {
      throw kmsError(this.keyName, operation, error);
    }
  }

  async wrap(dataKey: Buffer): Promise<Buffer> {
    const request = { name: this.keyName, plaintext: dataKey, plaintextCrc32c: crc32cOf(dataKey) };
    const response = await this.call('wrap', (client) => client.encrypt(request, CALL_OPTIONS));
    // Cloud KMS says whether the data key reached it intact (decrypt refuses a damaged one).
    const sentIntact = response.verifiedPlaintextCrc32c === true;
    return this.received('wrap', sentIntact, response.ciphertext, response.ciphertextCrc32c);
  }

  async unwrap(ciphertext: Buffer): Promise<Buffer> {
    const request = { name: this.keyName, ciphertext, ciphertextCrc32c: crc32cOf(ciphertext) };
    const response = await this.call('unwrap', (client) => client.decrypt(request, CALL_OPTIONS));
    return this.received('unwrap', true, response.plaintext, response.plaintextCrc32c);
  }

  /**
   * The bytes Cloud KMS answered with, once both checksums agree: it read
   * what was sent intact, and what came back matches its CRC32C. A mismatch
   * is damage on the way, so trying again may work.
   */
  private received(
    operation: Operation,
    sentIntact: boolean,
    value: Uint8Array | string | null | undefined,
    valueCrc32c: { value?: unknown } | null | undefined,
  ): Buffer {
    const received = bytes(value);
    if (sentIntact && checksum(valueCrc32c) === crc32c(received)) return received;
    throw new TransientError(
      `Cloud KMS key ${this.keyName} could not ${VERB[operation]}: ${MISMATCH[operation]} did not match (corrupted in transit; retried)`,
    );
  }

  /** Closes the client, if it was ever opened. */
  async close(): Promise<void> {
    const pending = this.clientPromise;
    this.clientPromise = undefined;
    if (pending) await (await pending).close();
  }
}
