import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { PubSubBus } from '../shared/bus/pubsub-bus.js';
import { generateKeyFileContents } from '../shared/crypto/key-wrapper.js';
import { GcsStore } from '../shared/store/gcs-store.js';
import { ComputeStandin } from './standins/compute/server.js';
import { ContainerStandin } from './standins/container/server.js';
import { KmsStandin } from './standins/kms/server.js';
import { KmsAdmin } from './kms-admin.js';
import type { FunctionName } from '../functions/registry.js';
import { DEPLOYMENT_ENV, type Deployment } from '../shared/config/deployment.js';
import type { ApiRecorder } from './api-recorder.js';
import { LocalPipeline } from './pipeline.js';

/**
 * Lifeboat deployed on the local environment: a bucket on fake-gcs-server,
 * the Compute and Container API stand-ins, a key file (or, with `kms`, a
 * Cloud KMS key on the KMS stand-in), and every function behind its push
 * subscription on the Pub/Sub emulator. Clusters come from the
 * environment's kubeconfig (contexts "source" and "target").
 */
export interface LocalLifeboat {
  pipeline: LocalPipeline;
  compute: ComputeStandin;
  container: ContainerStandin;
  store: GcsStore;
  storeUrl: string;
  /** The key file the functions wrap the data key with; written but unused with `kms`. */
  keyFile: string;
  /** With `kms`: the Cloud KMS stand-in (drive it with the real client: local/kms-admin.ts). */
  kms?: KmsStandin;
  /** With `kms`: the key the functions wrap the data key with (LIFEBOAT_KMS_KEY). */
  kmsKey?: string;
  bus: PubSubBus;
  topicPrefix: string;
  project: string;
  stop(): Promise<void>;
}

function need(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run inside the local environment (local/with-env)`);
  return value;
}

export interface LocalLifeboatOptions {
  workBudgetMs?: number;
  logLevel?: string;
  /** Only these functions (all by default). */
  functions?: FunctionName[];
  /** Clusters from this Container API endpoint instead of the environment's kubeconfig. */
  containerEndpoint?: string;
  /**
   * The backup policies, restore plans and drill policies deployed
   * (LIFEBOAT_DEPLOYMENT), as Terraform would render them; none deployed
   * allows no backup, restore or drill. Fields left out take their schema
   * defaults.
   */
  deployment?:
    | { backupPolicies?: unknown[]; restorePlans?: unknown[]; drillPolicies?: unknown[] }
    | Deployment;
  /**
   * Wrap the data key with a Cloud KMS key (version 1 primary) on a KMS
   * stand-in, as deployed (LIFEBOAT_KMS_KEY, LIFEBOAT_KMS_ENDPOINT), instead
   * of the key file.
   */
  kms?: boolean;
  /** More variables for the functions (e.g. GCE_METADATA_HOST of a metadata stand-in); they win. */
  extraEnvironment?: Record<string, string>;
  /** Puts recording proxies (which can inject faults) between each function and its APIs. */
  recorder?: ApiRecorder;
}

export async function startLocalLifeboat(
  options: LocalLifeboatOptions = {},
): Promise<LocalLifeboat> {
  const project = process.env['LIFEBOAT_PROJECT'] ?? 'lifeboat-local';
  const run = randomBytes(3).toString('hex');
  const bucket = `lifeboat-${run}`;
  const storage = new Storage({
    apiEndpoint: need('LIFEBOAT_STORAGE_ENDPOINT'),
    projectId: project,
  });
  await storage.createBucket(bucket);
  const store = new GcsStore(storage, bucket, 'lifeboat');
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-pipeline-'));
  const keyFile = join(dir, 'lifeboat.key');
  writeFileSync(keyFile, generateKeyFileContents(), { mode: 0o600 });
  const compute = await ComputeStandin.start();
  const container = await ContainerStandin.start();
  const kms = options.kms ? await KmsStandin.start() : undefined;
  let kmsKey: string | undefined;
  if (kms) {
    const admin = new KmsAdmin(kms);
    try {
      kmsKey = await admin.createKey({
        project,
        location: 'europe-west1',
        keyRing: `lifeboat-${run}`,
        key: 'catalog',
      });
    } finally {
      await admin.close();
    }
  }
  const topicPrefix = `lb-${run}-`;
  const environment: Record<string, string> = {
    LIFEBOAT_STORE: `gs://${bucket}/lifeboat`,
    LIFEBOAT_PROJECT: project,
    LIFEBOAT_TOPIC_PREFIX: topicPrefix,
    ...(kms && kmsKey
      ? { LIFEBOAT_KMS_KEY: kmsKey, LIFEBOAT_KMS_ENDPOINT: kms.url, LIFEBOAT_KEY_FILE: '' }
      : { LIFEBOAT_KEY_FILE: keyFile }),
    ...(options.containerEndpoint
      ? { LIFEBOAT_CONTAINER_ENDPOINT: options.containerEndpoint, LIFEBOAT_KUBECONFIG: '' }
      : {
          LIFEBOAT_KUBECONFIG: need('LIFEBOAT_KUBECONFIG'),
          LIFEBOAT_CONTAINER_ENDPOINT: container.url,
        }),
    LIFEBOAT_COMPUTE_ENDPOINT: compute.url,
    LIFEBOAT_LOG_LEVEL: options.logLevel ?? 'info',
    ...(options.deployment ? { [DEPLOYMENT_ENV]: JSON.stringify(options.deployment) } : {}),
    ...(options.workBudgetMs ? { LIFEBOAT_WORK_BUDGET_MS: String(options.workBudgetMs) } : {}),
    ...options.extraEnvironment,
  };
  const recorder = options.recorder;
  const pipeline = new LocalPipeline({
    project,
    topicPrefix,
    logDir: dir,
    environment,
    ...(recorder ? { environmentFor: (name) => recorder.environmentFor(name, environment) } : {}),
  });
  try {
    await pipeline.start(options.functions);
  } catch (error) {
    // A function that did not come up leaves nothing else running behind it.
    await pipeline.stop().catch(() => undefined);
    await Promise.all([compute.stop(), container.stop(), kms?.stop()]);
    throw error;
  }
  const bus = new PubSubBus(new PubSub({ projectId: project }), { createTopics: false });
  return {
    pipeline,
    compute,
    container,
    store,
    storeUrl: `gs://${bucket}/lifeboat`,
    keyFile,
    ...(kms ? { kms, kmsKey } : {}),
    bus,
    topicPrefix,
    project,
    stop: async () => {
      await pipeline.stop();
      await bus.close();
      await compute.stop();
      await container.stop();
      await kms?.stop();
    },
  };
}
