import { KeyManagementServiceClient } from '@google-cloud/kms';
import type { KmsStandin } from './standins/kms/server.js';

const ALREADY_EXISTS = 6;

/**
 * What an operator does to a Cloud KMS key, through the real client (as
 * gcloud would): create it, rotate it, disable and enable a version.
 */
export class KmsAdmin {
  readonly client: KeyManagementServiceClient;

  constructor(standin: KmsStandin) {
    this.client = new KeyManagementServiceClient(standin.clientOptions());
  }

  /** A key ring and a symmetric ENCRYPT_DECRYPT key in it, with version 1 primary; its name. */
  async createKey(ref: {
    project: string;
    location: string;
    keyRing: string;
    key: string;
  }): Promise<string> {
    const parent = `projects/${ref.project}/locations/${ref.location}`;
    const ringName = `${parent}/keyRings/${ref.keyRing}`;
    await this.client
      .createKeyRing({ parent, keyRingId: ref.keyRing, keyRing: {} })
      .catch((error: { code?: number }) => {
        if (error.code !== ALREADY_EXISTS) throw error;
      });
    const [key] = await this.client.createCryptoKey({
      parent: ringName,
      cryptoKeyId: ref.key,
      cryptoKey: { purpose: 'ENCRYPT_DECRYPT' },
    });
    return key.name!;
  }

  /** The key's primary version's name. */
  async primary(keyName: string): Promise<string> {
    const [key] = await this.client.getCryptoKey({ name: keyName });
    return key.primary!.name!;
  }

  /** Rotation: a new version, made primary; its name. */
  async rotate(keyName: string): Promise<string> {
    const [version] = await this.client.createCryptoKeyVersion({
      parent: keyName,
      cryptoKeyVersion: {},
    });
    const id = version.name!.split('/').pop()!;
    await this.client.updateCryptoKeyPrimaryVersion({ name: keyName, cryptoKeyVersionId: id });
    return version.name!;
  }

  /** `gcloud kms keys versions disable|enable`. */
  async setState(versionName: string, state: 'ENABLED' | 'DISABLED'): Promise<void> {
    await this.client.updateCryptoKeyVersion({
      cryptoKeyVersion: { name: versionName, state },
      updateMask: { paths: ['state'] },
    });
  }

  async state(versionName: string): Promise<string> {
    const [version] = await this.client.getCryptoKeyVersion({ name: versionName });
    return String(version.state);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
