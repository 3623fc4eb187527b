import { fileURLToPath } from 'node:url';
import { Storage } from '@google-cloud/storage';
import { ValidationError } from '../errors.js';
import { GcsStore } from './gcs-store.js';
import { LocalStore } from './local-store.js';
import type { ObjectStore } from './object-store.js';

/**
 * Opens a store from its URL. `gs://` uses Application Default Credentials,
 * or the endpoint in LIFEBOAT_STORAGE_ENDPOINT (fake-gcs-server locally:
 * the client's own STORAGE_EMULATOR_HOST expects a different URL shape).
 */
export function openStore(url: string, storage?: Storage): ObjectStore {
  const gs = /^gs:\/\/([a-z0-9][-a-z0-9_.]{1,221}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (gs) {
    const client = storage ?? new Storage(storageOptions());
    return new GcsStore(client, gs[1] as string, (gs[2] ?? '').replace(/\/+$/, ''));
  }
  if (url.startsWith('file:///')) return new LocalStore(fileURLToPath(url));
  throw new ValidationError('store URL', [`"${url}" must start with gs://BUCKET or file:///`]);
}

function storageOptions(): ConstructorParameters<typeof Storage>[0] {
  const emulator = process.env['LIFEBOAT_STORAGE_ENDPOINT'];
  if (!emulator) return {};
  return { apiEndpoint: emulator, projectId: process.env['LIFEBOAT_PROJECT'] ?? 'lifeboat-local' };
}
