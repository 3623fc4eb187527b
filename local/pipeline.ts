import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { PubSub } from '@google-cloud/pubsub';
import { deadLetterTopicName, topicName, TopicRoles } from '../shared/bus/topics.js';
import { Functions, type FunctionName } from '../functions/registry.js';
import { freePort, startService, stopService, waitUntilReady, type Service } from './process.js';

const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..');
const frameworkMain = join(
  repoRoot,
  'node_modules',
  '@google-cloud',
  'functions-framework',
  'build',
  'src',
  'main.js',
);
const functionsSource = join(repoRoot, 'dist', 'functions', 'index.js');

/**
 * Starts one of Lifeboat's functions from dist/ under the Functions
 * Framework, on `port`, as Cloud Run functions runs it: FUNCTION_TARGET and
 * K_SERVICE set, over the variables given and this process's own.
 */
export function serveFunction(
  name: string,
  options: {
    signatureType: 'cloudevent' | 'http';
    port: number;
    logFile: string;
    environment: Record<string, string>;
  },
): Service {
  return startService(
    `function ${name}`,
    process.execPath,
    [
      frameworkMain,
      `--target=${name}`,
      `--signature-type=${options.signatureType}`,
      `--source=${functionsSource}`,
      `--port=${options.port}`,
    ],
    options.logFile,
    { ...process.env, ...options.environment, FUNCTION_TARGET: name, K_SERVICE: name },
  );
}

export interface PipelineOptions {
  project: string;
  topicPrefix: string;
  /** LIFEBOAT_* settings and emulator hosts the functions run with. */
  environment: Record<string, string>;
  logDir: string;
  maxDeliveryAttempts?: number;
  /**
   * Variables for one function only, over `environment` (e.g. its own
   * recording proxies, local/api-recorder.ts); asked again on a restart.
   */
  environmentFor?: (name: FunctionName) => Promise<Record<string, string>>;
}

export interface FunctionServer {
  name: FunctionName;
  port: number;
  service: Service;
}

/**
 * The deployed shape of the pipeline, on this machine: every function in
 * its own Functions Framework server, and a push subscription from its
 * trigger topic on the Pub/Sub emulator, with a dead-letter topic, exactly
 * as Terraform sets them up on Google Cloud.
 */
export class LocalPipeline {
  readonly servers = new Map<FunctionName, FunctionServer>();
  private readonly ports = new Map<FunctionName, number>();
  readonly pubsub: PubSub;

  constructor(private readonly options: PipelineOptions) {
    this.pubsub = new PubSub({ projectId: options.project });
  }

  /** Where each function's log is written (function-NAME.log). */
  get logDir(): string {
    return this.options.logDir;
  }

  topic(role: (typeof TopicRoles)[number]): string {
    return topicName(this.options.topicPrefix, role);
  }

  async start(only?: FunctionName[]): Promise<void> {
    for (const role of TopicRoles) {
      for (const name of [
        topicName(this.options.topicPrefix, role),
        deadLetterTopicName(this.options.topicPrefix, role),
      ]) {
        const [exists] = await this.pubsub.topic(name).exists();
        if (!exists) await this.pubsub.createTopic(name);
      }
    }
    const names = only ?? (Object.keys(Functions) as FunctionName[]);
    // Each function's own variables first (they may start servers of their own), then the
    // functions' ports: a port taken for a function is then never one those servers hold.
    const environments = new Map<FunctionName, Record<string, string>>();
    for (const name of names)
      environments.set(name, (await this.options.environmentFor?.(name)) ?? {});
    for (const name of names) {
      let port = this.ports.get(name);
      while (port === undefined || [...this.ports.values()].filter((p) => p === port).length > 1) {
        port = await freePort();
        this.ports.set(name, port);
      }
    }
    // Every start is awaited, so that a failed one leaves no sibling running unseen by stop().
    const started = await Promise.allSettled(
      names.map((name) => this.startFunction(name, environments.get(name))),
    );
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Starts (or restarts) one function's server and points its push subscription at it. */
  async startFunction(
    name: FunctionName,
    ownEnvironment?: Record<string, string>,
  ): Promise<FunctionServer> {
    const own = ownEnvironment ?? (await this.options.environmentFor?.(name));
    // A restarted function keeps its URL, as a deployed function does when an instance crashes.
    const port = this.ports.get(name) ?? (await freePort());
    this.ports.set(name, port);
    const service = serveFunction(name, {
      signatureType: 'cloudevent',
      port,
      logFile: join(this.options.logDir, `function-${name}.log`),
      environment: { ...this.options.environment, ...own },
    });
    // A TCP connect: any HTTP request would be taken for an event by the framework.
    // Generous: eight functions load their clients at once on a two-core machine.
    try {
      await waitUntilReady(service, () => listening(port), 120_000);
    } catch (error) {
      await stopService(service);
      throw error;
    }
    const server = { name, port, service };
    this.servers.set(name, server);
    await this.subscribe(name, port);
    return server;
  }

  private async subscribe(name: FunctionName, port: number): Promise<void> {
    const role = Functions[name].trigger;
    const topic = topicName(this.options.topicPrefix, role);
    const subscriptionName = `${this.options.topicPrefix}${name}`;
    const pushEndpoint = `http://127.0.0.1:${port}/projects/${this.options.project}/topics/${topic}`;
    const subscription = this.pubsub.subscription(subscriptionName);
    const [exists] = await subscription.exists();
    if (exists) {
      await subscription.modifyPushConfig({ pushEndpoint });
      return;
    }
    // No retry policy here, unlike Terraform's: with one, the emulator never
    // redelivers some messages whose pushes failed while an endpoint was down
    // (the crash test in failures.test.ts hangs), so nacks come back at once.
    await this.pubsub.topic(topic).createSubscription(subscriptionName, {
      pushConfig: { pushEndpoint },
      ackDeadlineSeconds: 60,
      deadLetterPolicy: {
        deadLetterTopic: `projects/${this.options.project}/topics/${deadLetterTopicName(this.options.topicPrefix, role)}`,
        maxDeliveryAttempts: this.options.maxDeliveryAttempts ?? 100,
      },
    });
  }

  /** Kills a function's process outright, as a crashed instance. */
  async kill(name: FunctionName): Promise<void> {
    const server = this.servers.get(name);
    if (!server) return;
    try {
      process.kill(-server.service.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await new Promise((r) => setTimeout(r, 100));
    this.servers.delete(name);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => stopService(s.service, 2000)));
    this.servers.clear();
    await this.pubsub.close();
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
