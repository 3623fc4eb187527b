import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createWriteStream } from 'node:fs';

/** A child process of the local environment, with its log file for error messages. */
export interface Service {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Rejects as soon as the child exits, with the tail of its log. */
  exited: Promise<never>;
}

/** A free loopback port, found by binding port 0. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function tail(path: string, lines = 15): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Starts a child in its own process group (so stopping it also stops what it
 * spawned, such as the emulator's JVM), logging to a file.
 */
export function startService(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Service {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<never>((_, reject) => {
    const fail = (reason: string): void => {
      void tail(logFile).then((t) =>
        reject(new Error(`${name} ${reason}; last lines of ${logFile}:\n${t}`)),
      );
    };
    child.once('error', (error) => fail(`could not start (${error.message})`));
    child.once('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal})`));
  });
  exited.catch(() => undefined);
  return { name, child, logFile, exited };
}

/** Stops a service's whole process group: SIGTERM, then SIGKILL after a grace period. */
export async function stopService(service: Service, graceMs = 5000): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
  signal('SIGKILL'); // stragglers left in the group
}

/** Polls `probe` until it returns true, failing fast if the service dies. */
export async function waitUntilReady(
  service: Service,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const poll = async (): Promise<void> => {
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      if (await probe().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${service.name} not ready after ${timeoutMs / 1000}s; last lines of ${service.logFile}:\n${await tail(service.logFile)}`,
        );
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  };
  await Promise.race([poll(), service.exited]);
}
