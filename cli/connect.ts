import { KubeConfig } from '@kubernetes/client-node';
import { Layout } from '../shared/catalog/layout.js';
import { isValidClusterName } from '../shared/clusters/cluster-selection.js';
import { LOCAL } from '../shared/clusters/kubeconfig-inventory.js';
import { loadSealer } from '../shared/catalog/data-key.js';
import { LocalKeyWrapper, type KeyWrapper } from '../shared/crypto/key-wrapper.js';
import { KmsKeyWrapper } from '../shared/crypto/kms-key-wrapper.js';
import type { Sealer } from '../shared/crypto/sealer.js';
import {
  computeClientOptions,
  type ComputeClientOptions,
} from '../shared/disks/compute-client-options.js';
import { errorMessage, PermanentError, ValidationError } from '../shared/errors.js';
import type { ClusterRef } from '../shared/messages/common.js';
import { openStore } from '../shared/store/open-store.js';
import type { GceSnapshotter } from '../shared/disks/gce-snapshotter.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { UsageError } from './exit-codes.js';
import { optionalSetting, requireSetting } from './options.js';

export const STORE_HINT =
  'where backups are kept, e.g. gs://BUCKET/PREFIX or file:///var/backups/lifeboat';

/** The store named by --store or LIFEBOAT_STORE; a malformed URL is a usage error. */
export function storeFrom(flag: string | undefined): ObjectStore {
  const url = requireSetting(flag, '--store URL', 'LIFEBOAT_STORE', STORE_HINT);
  try {
    return openStore(url);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new UsageError(`invalid --store "${url}": must start with gs://BUCKET or file:///`);
    }
    throw error;
  }
}

/** The store when --store or LIFEBOAT_STORE names one: pipeline commands work without it. */
export function storeIfGiven(flag: string | undefined): ObjectStore | undefined {
  return optionalSetting(flag, 'LIFEBOAT_STORE') ? storeFrom(flag) : undefined;
}

export interface KubeTarget {
  kubeConfig: KubeConfig;
  /** `{ local, local, <context> }`: how the catalog names a kubeconfig context. */
  cluster: ClusterRef;
}

/** Loads a kubeconfig, selects the context, and names the cluster after it. */
export function kubeTarget(file: string | undefined, context: string | undefined): KubeTarget {
  const path = requireSetting(
    file,
    '--kubeconfig FILE',
    'KUBECONFIG',
    'the kubeconfig of the cluster to work on',
  );
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(path);
  } catch (error) {
    throw new UsageError(`cannot load kubeconfig ${path}: ${errorMessage(error)}`);
  }
  const names = kubeConfig.getContexts().map((c) => c.name);
  const name = context ?? kubeConfig.getCurrentContext();
  if (!name) throw new UsageError(`kubeconfig ${path} has no current context: pass --context`);
  if (!names.includes(name)) {
    throw new UsageError(
      `kubeconfig ${path} has no context "${name}" (it has: ${names.join(', ') || 'none'})`,
    );
  }
  kubeConfig.setCurrentContext(name);
  if (!isValidClusterName(name)) {
    throw new UsageError(
      `context "${name}" in ${path} cannot name a cluster in the catalog: it must be a lowercase ` +
        'RFC 1123 label (a-z, 0-9, "-", at most 63 characters); rename the context',
    );
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new UsageError(`context "${name}" in ${path} names a cluster the kubeconfig lacks`);
  }
  return { kubeConfig, cluster: { project: LOCAL, location: LOCAL, name } };
}

/** The key flags every command that reads or writes Secrets takes. */
export interface KeyFlags {
  keyFile?: string;
  kmsKey?: string;
}

/** The flags of `inProcessOptions`: where an in-process command runs. */
export interface InProcessFlags extends KeyFlags {
  kubeconfig?: string;
  context?: string;
  store?: string;
  computeEndpoint?: string;
}

/** The key that wraps the store's data key: a key file (local) or a Cloud KMS key (deployed). */
export type KeySource = { keyFile: string } | { kmsKey: string; kmsEndpoint?: string };

/** How a key is named in messages: "key file F" or "Cloud KMS key K". */
export function keyLabel(source: KeySource): string {
  return 'keyFile' in source ? `key file ${source.keyFile}` : `Cloud KMS key ${source.kmsKey}`;
}

/**
 * The key from --key-file or --kms-key, or else LIFEBOAT_KEY_FILE or
 * LIFEBOAT_KMS_KEY; undefined when none is set. Exactly one: a file and a
 * KMS key together are a usage error (a flag beats the other's variable).
 * LIFEBOAT_KMS_ENDPOINT points the KMS client elsewhere (a stand-in).
 */
export function keySourceFrom(flags: KeyFlags): KeySource | undefined {
  const flagged = { keyFile: flags.keyFile || undefined, kmsKey: flags.kmsKey || undefined };
  const { keyFile, kmsKey } =
    flagged.keyFile || flagged.kmsKey
      ? flagged
      : {
          keyFile: optionalSetting(undefined, 'LIFEBOAT_KEY_FILE'),
          kmsKey: optionalSetting(undefined, 'LIFEBOAT_KMS_KEY'),
        };
  if (keyFile && kmsKey) {
    const where = flagged.keyFile
      ? '--key-file and --kms-key'
      : 'LIFEBOAT_KEY_FILE and LIFEBOAT_KMS_KEY';
    throw new UsageError(
      `${where} are both set: the store's data key is wrapped with one key, a key file or a Cloud KMS key; give only the one it was created with`,
    );
  }
  if (keyFile) return { keyFile };
  if (!kmsKey) return undefined;
  const kmsEndpoint = optionalSetting(undefined, 'LIFEBOAT_KMS_ENDPOINT');
  return { kmsKey, ...(kmsEndpoint ? { kmsEndpoint } : {}) };
}

/** The wrapper for a key; a malformed key file, KMS key name or endpoint is a usage error. */
export function keyWrapper(key: KeySource): KeyWrapper {
  try {
    return 'keyFile' in key
      ? new LocalKeyWrapper(key.keyFile)
      : new KmsKeyWrapper(key.kmsKey, { endpoint: key.kmsEndpoint });
  } catch (error) {
    const message = errorMessage(error).replace(/^Invalid /, 'invalid ');
    throw new UsageError('keyFile' in key ? message : `${message} (--kms-key or LIFEBOAT_KMS_KEY)`);
  }
}

export interface Sealing {
  sealer: Sealer;
  encryption: { keyId: string; wrappedBy: string };
}

/** The store's data key, unwrapped with the key (created on first use by a backup). */
export async function sealingFor(store: ObjectStore, wrapper: KeyWrapper): Promise<Sealing> {
  const sealer = await loadSealer(store, wrapper);
  return { sealer, encryption: { keyId: sealer.keyId, wrappedBy: wrapper.id } };
}

/**
 * A sealer to open a backup's Secrets, read-only: the key must be the one
 * the backup was sealed with, checked before anything is read with it.
 */
export async function sealerForBackup(
  store: ObjectStore,
  key: KeySource | undefined,
  encryption: { keyId: string; wrappedBy: string } | undefined,
): Promise<Sealer | undefined> {
  if (!key) return undefined;
  const wrapper = keyWrapper(key);
  if (encryption && encryption.wrappedBy !== wrapper.id) {
    throw new UsageError(
      `${keyLabel(key)} (${wrapper.id}) is not the key this backup's Secrets were sealed with (${encryption.wrappedBy})`,
    );
  }
  if (!encryption) return undefined;
  // loadSealer creates a data key that is missing; reading a backup must never write one.
  if (!(await store.exists(Layout.dataKey(encryption.keyId)))) {
    throw new PermanentError(
      `the data key that sealed this backup's Secrets (${Layout.dataKey(encryption.keyId)}) is missing from ${store.url}`,
    );
  }
  return loadSealer(store, wrapper);
}

export function computeEndpointFrom(flag: string | undefined): string | undefined {
  return optionalSetting(flag, 'LIFEBOAT_COMPUTE_ENDPOINT');
}

/** Client options for --compute-endpoint (or LIFEBOAT_COMPUTE_ENDPOINT); a bad URL is a usage error. */
export function computeOptions(endpoint: string | undefined): ComputeClientOptions {
  try {
    return computeClientOptions(endpoint);
  } catch (error) {
    throw new UsageError(`invalid --compute-endpoint: ${errorMessage(error)}`);
  }
}

/** The Compute Engine snapshotter, loaded only when volumes are involved (its client is heavy). */
export async function gceSnapshotter(client: ComputeClientOptions): Promise<GceSnapshotter> {
  const { GceSnapshotter } = await import('../shared/disks/gce-snapshotter.js');
  return new GceSnapshotter({ client });
}

/** What an in-process restore (or drill) reads from and writes to. */
export interface RestoreSettings extends KubeTarget {
  store: ObjectStore;
  key: KeySource | undefined;
  compute: ComputeClientOptions;
}

/**
 * The store, the key, the Compute client and the target cluster of an
 * in-process restore or drill, each checked (a malformed key, a bad URL, a
 * missing context) before anything is read.
 */
export function restoreSettings(flags: InProcessFlags): RestoreSettings {
  const store = storeFrom(flags.store);
  const key = keySourceFrom(flags);
  if (key) keyWrapper(key);
  const compute = computeOptions(computeEndpointFrom(flags.computeEndpoint));
  return { store, key, compute, ...kubeTarget(flags.kubeconfig, flags.context) };
}
