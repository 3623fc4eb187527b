import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeGcs } from './fake-gcs.js';
import {
  buildKubeCluster,
  kubeconfigYaml,
  startKubeCluster,
  type LocalCluster,
} from './kube-apiserver.js';
import { stopService, type Service } from './process.js';
import { startPubSubEmulator } from './pubsub-emulator.js';

export const LOCAL_PROJECT = 'lifeboat-local';

/** The local stand-in for Google Cloud: what the tests, benchmarks and demo run against. */
export interface LocalEnvironment {
  workDir: string;
  pubsubHost: string;
  storageHost: string;
  clusters: { source: LocalCluster; target: LocalCluster };
  /** A kubeconfig with both clusters, as contexts "source" and "target". */
  kubeconfig: string;
  /** The variables that point the client libraries and Lifeboat at this environment. */
  variables: Record<string, string>;
  stop(): Promise<void>;
}

function log(message: string): void {
  process.stderr.write(`[env] ${message}\n`);
}

/** How startEnvironment starts the local cloud. */
export interface EnvironmentOptions {
  /** Run each cluster's controller manager (default true); see KubeClusterOptions. */
  controllers?: boolean;
}

/** Starts every service, in parallel where they are independent; on any failure stops the rest. */
export async function startEnvironment(
  options: EnvironmentOptions = {},
): Promise<LocalEnvironment> {
  const workDir = mkdtempSync(join(tmpdir(), 'lifeboat-env-'));
  const services: Service[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(services.map((s) => stopService(s)));
    // etcd data and logs of a stopped environment serve nobody; keep them only when asked.
    if (!process.env['LIFEBOAT_KEEP_ENV']) await rm(workDir, { recursive: true, force: true });
  };
  const started = Date.now();
  try {
    const binary = buildKubeCluster();
    const track = <T extends { service: Service }>(p: Promise<T>): Promise<T> =>
      p.then((r) => {
        services.push(r.service);
        log(`${r.service.name} ready after ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return r;
      });
    const [pubsub, gcs, source, target] = await Promise.all([
      track(startPubSubEmulator(workDir)),
      track(startFakeGcs(workDir)),
      track(startKubeCluster(binary, workDir, 'source', options)),
      track(startKubeCluster(binary, workDir, 'target', options)),
    ]);
    const kubeconfig = join(workDir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml([source, target]), { mode: 0o600 });
    const variables = {
      PUBSUB_EMULATOR_HOST: pubsub.host,
      LIFEBOAT_STORAGE_ENDPOINT: `http://${gcs.host}`,
      LIFEBOAT_PROJECT: LOCAL_PROJECT,
      GOOGLE_CLOUD_PROJECT: LOCAL_PROJECT,
      LIFEBOAT_KUBECONFIG: kubeconfig,
      LIFEBOAT_SOURCE_KUBECONFIG: source.kubeconfig,
      LIFEBOAT_TARGET_KUBECONFIG: target.kubeconfig,
      LIFEBOAT_SOURCE_UNPRIVILEGED_TOKEN: source.unprivilegedToken,
      // What the metadata stand-in hands functions in GKE mode; both API servers accept it.
      LIFEBOAT_GKE_TOKEN: source.gkeToken,
      LIFEBOAT_ENV_DIR: workDir,
      // The benchmarks read the API server's CPU time from /proc to show where the cores go.
      LIFEBOAT_SOURCE_APISERVER_PID: String(source.service.child.pid ?? ''),
      // Empty when the clusters run without controllers.
      LIFEBOAT_SOURCE_CONTROLLER_MANAGER_PID: String(source.controllers?.pid ?? ''),
    };
    return {
      workDir,
      pubsubHost: pubsub.host,
      storageHost: gcs.host,
      clusters: { source, target },
      kubeconfig,
      variables,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** True when the variables of a running environment are already set (started by someone else). */
export function environmentFromVariables(env: NodeJS.ProcessEnv): boolean {
  return Boolean(
    env['PUBSUB_EMULATOR_HOST'] && env['LIFEBOAT_STORAGE_ENDPOINT'] && env['LIFEBOAT_KUBECONFIG'],
  );
}
