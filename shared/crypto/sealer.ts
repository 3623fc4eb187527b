import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { PermanentError } from '../errors.js';

/** An encrypted payload as stored in a pack. */
export interface Sealed {
  alg: 'AES-256-GCM-SIV-HMAC';
  keyId: string;
  nonce: string;
  ciphertext: string;
  tag: string;
}

/**
 * Encrypts Secrets with the store's data key. The nonce is an HMAC of the
 * plaintext (the SIV construction), so an unchanged Secret encrypts to the
 * same bytes and packs stay content-addressed and incremental; it reveals
 * only whether two Secrets are equal.
 */
export class Sealer {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  constructor(
    readonly keyId: string,
    dataKey: Buffer,
  ) {
    this.encKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'lifeboat enc', 32));
    this.macKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'lifeboat nonce', 32));
  }

  seal(plaintext: Buffer): Sealed {
    const nonce = createHmac('sha256', this.macKey).update(plaintext).digest().subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, nonce);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      alg: 'AES-256-GCM-SIV-HMAC',
      keyId: this.keyId,
      nonce: nonce.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  }

  open(sealed: Sealed): Buffer {
    if (sealed.keyId !== this.keyId) {
      throw new PermanentError(`Sealed with data key ${sealed.keyId}, but ${this.keyId} is loaded`);
    }
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        this.encKey,
        Buffer.from(sealed.nonce, 'base64'),
      );
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([
        decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
        decipher.final(),
      ]);
    } catch (error) {
      throw new PermanentError(
        'A sealed Secret failed authentication: tampered or wrong key',
        error,
      );
    }
  }
}
