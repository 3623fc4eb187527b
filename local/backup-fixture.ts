import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { LocalKeyWrapper, generateKeyFileContents } from '../shared/crypto/key-wrapper.js';
import { loadSealer } from '../shared/catalog/data-key.js';
import type { Sealer } from '../shared/crypto/sealer.js';
import { RestoreOptions } from '../shared/messages/restore.js';
import type { BackupPolicy, ClusterRef } from '../shared/messages/common.js';
import { BackupPolicy as BackupPolicySchema } from '../shared/messages/common.js';
import { GcsStore } from '../shared/store/gcs-store.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { validate } from '../shared/validate.js';
import { required, unique } from './settings.js';

export const SOURCE: ClusterRef = { project: 'local', location: 'local', name: 'source' };
export const TARGET: ClusterRef = { project: 'local', location: 'local', name: 'target' };

/** A fresh bucket on fake-gcs-server. */
export async function gcsStore(): Promise<ObjectStore> {
  const storage = new Storage({
    apiEndpoint: required('LIFEBOAT_STORAGE_ENDPOINT'),
    projectId: 'lifeboat-local',
  });
  const bucket = unique('backups');
  await storage.createBucket(bucket);
  return new GcsStore(storage, bucket, 'lifeboat');
}

export async function sealerFor(
  store: ObjectStore,
): Promise<{ sealer: Sealer; keyFile: string; encryption: { keyId: string; wrappedBy: string } }> {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'lifeboat-key-')), 'key');
  writeFileSync(keyFile, generateKeyFileContents(), { mode: 0o600 });
  const wrapper = new LocalKeyWrapper(keyFile);
  const sealer = await loadSealer(store, wrapper);
  return { sealer, keyFile, encryption: { keyId: sealer.keyId, wrappedBy: wrapper.id } };
}

export function policy(overrides: Record<string, unknown> = {}): BackupPolicy {
  return validate(
    BackupPolicySchema,
    { name: 'test', projects: ['local'], snapshotVolumes: false, ...overrides },
    'test policy',
  );
}

export function restoreOptions(overrides: Record<string, unknown> = {}): RestoreOptions {
  return validate(RestoreOptions, { ...overrides }, 'test restore options');
}
