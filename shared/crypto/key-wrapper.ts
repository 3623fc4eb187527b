import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PermanentError, ValidationError } from '../errors.js';

/**
 * Wraps the store's data key: a local key file in local mode, a Cloud KMS
 * key in production. The data key never leaves the process unwrapped.
 */
export interface KeyWrapper {
  /** Names the key-encryption key, without revealing it. */
  readonly id: string;
  wrap(dataKey: Buffer): Promise<Buffer>;
  unwrap(wrapped: Buffer): Promise<Buffer>;
  /** Releases what the wrapper holds open (a client's connections), if anything. */
  close?(): Promise<void>;
}

/** AES-256-GCM with a 32-byte key read from a file (raw, or base64 text). */
export class LocalKeyWrapper implements KeyWrapper {
  readonly id: string;
  private readonly key: Buffer;

  constructor(path: string) {
    let raw: Buffer;
    try {
      raw = readFileSync(path);
    } catch (error) {
      throw new ValidationError(`key file ${path}`, [
        `cannot be read (${(error as Error).message})`,
      ]);
    }
    const text = raw.toString('utf8').trim();
    const key = raw.length === 32 ? raw : Buffer.from(text, 'base64');
    if (key.length !== 32) {
      throw new ValidationError(`key file ${path}`, [
        'must hold 32 bytes, raw or base64 (openssl rand -base64 32)',
      ]);
    }
    this.key = key;
    this.id = `local:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
  }

  async wrap(dataKey: Buffer): Promise<Buffer> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  async unwrap(wrapped: Buffer): Promise<Buffer> {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, wrapped.subarray(0, 12));
      decipher.setAuthTag(wrapped.subarray(12, 28));
      return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]);
    } catch (error) {
      throw new PermanentError(
        'The key file does not unwrap this store’s data key (wrong key file?)',
        error,
      );
    }
  }
}

/** Writes a new random key file, for first-time local setups. */
export function generateKeyFileContents(): string {
  return `${randomBytes(32).toString('base64')}\n`;
}
