import { PubSub } from '@google-cloud/pubsub';
import { loadConfig, type Config } from '../shared/config/config.js';
import { DeployedConfiguration } from '../shared/config/deployment.js';
import { PubSubBus } from '../shared/bus/pubsub-bus.js';
import { topicName, type TopicRole } from '../shared/bus/topics.js';
import type { Bus } from '../shared/bus/bus.js';
import type { ClusterInventory } from '../shared/clusters/cluster-inventory.js';
import { containerClientOptions } from '../shared/clusters/container-client-options.js';
import { GkeInventory } from '../shared/clusters/gke-inventory.js';
import { KubeconfigInventory } from '../shared/clusters/kubeconfig-inventory.js';
import { loadSealer } from '../shared/catalog/data-key.js';
import { LocalKeyWrapper, type KeyWrapper } from '../shared/crypto/key-wrapper.js';
import { KmsKeyWrapper } from '../shared/crypto/kms-key-wrapper.js';
import type { Sealer } from '../shared/crypto/sealer.js';
import { computeClientOptions } from '../shared/disks/compute-client-options.js';
import { GceSnapshotter } from '../shared/disks/gce-snapshotter.js';
import type { DiskSnapshotter } from '../shared/disks/disk-snapshotter.js';
import { PermanentError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/log/logger.js';
import { openStore } from '../shared/store/open-store.js';
import type { ObjectStore } from '../shared/store/object-store.js';

/** Everything a function needs, built once per instance from the configuration. */
export interface Runtime {
  config: Config;
  /** The backup policies and restore plans deployed: what messages may ask for. */
  deployment: DeployedConfiguration;
  store: ObjectStore;
  bus: Bus;
  inventory: ClusterInventory;
  disks: DiskSnapshotter;
  logger: Logger;
  topic(role: TopicRole): string;
  /** The data key for Secrets, with what the catalog records about it. */
  sealer(): Promise<
    { sealer: Sealer; encryption: { keyId: string; wrappedBy: string } } | undefined
  >;
}

let runtime: Runtime | undefined;

/**
 * The key that wraps the store's data key: Cloud KMS when deployed
 * (LIFEBOAT_KMS_KEY), a key file in local mode (LIFEBOAT_KEY_FILE); never both.
 */
export function keyWrapper(config: Config): KeyWrapper | undefined {
  if (config.kmsKey && config.keyFile) {
    throw new PermanentError(
      'Both LIFEBOAT_KMS_KEY and LIFEBOAT_KEY_FILE are set: set one (the Cloud KMS key when deployed, a key file in local mode)',
    );
  }
  if (config.kmsKey) return new KmsKeyWrapper(config.kmsKey, { endpoint: config.kmsEndpoint });
  if (config.keyFile) return new LocalKeyWrapper(config.keyFile);
  return undefined;
}

function build(): Runtime {
  const config = loadConfig();
  const store = openStore(config.store);
  let sealerPromise: ReturnType<Runtime['sealer']> | undefined;
  // One wrapper (and KMS client) per instance, made on first use.
  let wrapperOnce: { wrapper: KeyWrapper | undefined } | undefined;
  const logger = createLogger({ level: config.logLevel });
  return {
    config,
    deployment: DeployedConfiguration.fromEnvironment(),
    store,
    logger,
    bus: new PubSubBus(new PubSub({ projectId: config.project }), { createTopics: false }),
    inventory: config.kubeconfig
      ? new KubeconfigInventory({ kubeconfig: config.kubeconfig })
      : new GkeInventory({ client: containerClientOptions(config.containerEndpoint) }),
    disks: new GceSnapshotter({ client: computeClientOptions(config.computeEndpoint) }),
    topic: (role) => topicName(config.topicPrefix, role),
    sealer: () => {
      // Kept for the instance once loaded; a failure (KMS unavailable, a disabled key
      // version) is not kept, so the next invocation tries again.
      sealerPromise ??= (async () => {
        wrapperOnce ??= { wrapper: keyWrapper(config) };
        const { wrapper } = wrapperOnce;
        if (!wrapper) return undefined;
        const sealer = await loadSealer(store, wrapper);
        return { sealer, encryption: { keyId: sealer.keyId, wrappedBy: wrapper.id } };
      })().catch((error: unknown) => {
        sealerPromise = undefined;
        throw error;
      });
      return sealerPromise;
    },
  };
}

/** The instance's runtime; a bad configuration fails every invocation with the one-line reason. */
export function getRuntime(): Runtime {
  runtime ??= build();
  return runtime;
}
