import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { generateKeyFileContents } from '../../../shared/crypto/key-wrapper.js';
import { required, unique } from '../../../local/settings.js';
import { explain, type CliResult } from '../../unit/cli/run-cli.js';

/** A fresh bucket on fake-gcs-server, with the client that made it. */
export async function newBucket(): Promise<{ storage: Storage; bucket: string; url: string }> {
  const storage = new Storage({
    apiEndpoint: required('LIFEBOAT_STORAGE_ENDPOINT'),
    projectId: 'lifeboat-local',
  });
  const bucket = unique('cli');
  await storage.createBucket(bucket);
  return { storage, bucket, url: `gs://${bucket}/lifeboat` };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `lifeboat-${prefix}-`));
}

export function newKeyFile(): string {
  const file = join(tempDir('key'), 'lifeboat.key');
  writeFileSync(file, generateKeyFileContents(), { mode: 0o600 });
  return file;
}

/** Asserts the exit code and parses stdout as the JSON the command printed. */
export function jsonOf<T>(r: CliResult, code = 0): T {
  assert.equal(r.code, code, explain(r));
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`stdout is not JSON:\n${explain(r)}`);
  }
}

/** The environment's kubeconfigs; throws (never skips) when the environment is missing. */
export const kubeconfigs = {
  source: (): string => required('LIFEBOAT_SOURCE_KUBECONFIG'),
  target: (): string => required('LIFEBOAT_TARGET_KUBECONFIG'),
  both: (): string => required('LIFEBOAT_KUBECONFIG'),
};
