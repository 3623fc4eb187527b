import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { PermanentError } from '../errors.js';

/**
 * An encrypted payload as stored in a pack. `-BOUND` payloads carry their
 * object's identity as associated data: moved to another Secret, they no
 * longer open. Payloads without it (Lifeboat 0.1.0) still open.
 */
export interface Sealed {
  alg: 'AES-256-GCM-SIV-HMAC' | 'AES-256-GCM-SIV-HMAC-BOUND';
  keyId: string;
  nonce: string;
  ciphertext: string;
  tag: string;
}

/** The identity a Secret's sealed payload is bound to: moved to another Secret, it no longer opens. */
export const secretIdentity = (namespace: string | undefined, name: string): string =>
  `secrets/${namespace ?? ''}/${name}`;

/**
 * Encrypts Secrets with the store's data key. The nonce is an HMAC of the
 * plaintext (the SIV construction), so an unchanged Secret encrypts to the
 * same bytes and packs stay content-addressed and incremental; it reveals
 * only whether two Secrets are equal.
 */
export class Sealer {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;
  private readonly authKey: Buffer;

  constructor(
    readonly keyId: string,
    dataKey: Buffer,
  ) {
    this.encKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'lifeboat enc', 32));
    this.macKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'lifeboat nonce', 32));
    this.authKey = Buffer.from(
      hkdfSync('sha256', dataKey, Buffer.alloc(0), 'lifeboat catalog auth', 32),
    );
  }

  /** An HMAC-SHA256 under a key derived from the data key: whoever lacks the key cannot forge it. */
  authenticate(message: string): string {
    return createHmac('sha256', this.authKey).update(message).digest('hex');
  }

  /** Seals `plaintext`, bound to `identity` (the object it belongs to). */
  seal(plaintext: Buffer, identity: string): Sealed {
    const aad = Buffer.from(identity, 'utf8');
    const nonce = createHmac('sha256', this.macKey)
      .update(aad)
      .update('\0')
      .update(plaintext)
      .digest()
      .subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, nonce);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      alg: 'AES-256-GCM-SIV-HMAC-BOUND',
      keyId: this.keyId,
      nonce: nonce.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  }

  /** Opens a payload; a bound one only for the identity it was sealed for. */
  open(sealed: Sealed, identity: string): Buffer {
    if (sealed.keyId !== this.keyId) {
      throw new PermanentError(`Sealed with data key ${sealed.keyId}, but ${this.keyId} is loaded`);
    }
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        this.encKey,
        Buffer.from(sealed.nonce, 'base64'),
      );
      if (sealed.alg === 'AES-256-GCM-SIV-HMAC-BOUND')
        decipher.setAAD(Buffer.from(identity, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([
        decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
        decipher.final(),
      ]);
    } catch (error) {
      throw new PermanentError(
        `The sealed Secret ${identity} failed authentication: tampered, moved from another Secret, or the wrong key`,
        error,
      );
    }
  }
}
