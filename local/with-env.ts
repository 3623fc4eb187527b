/**
 * Runs a command inside the local environment: `with-env -- mocha`.
 * Starts the Pub/Sub emulator, fake-gcs-server and two kube-apiservers
 * unless an environment is already up (its variables are set), runs the
 * command with the variables that point at them, and stops what it started,
 * also on Ctrl-C. With no command it keeps the environment up until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import {
  environmentFromVariables,
  startEnvironment,
  type LocalEnvironment,
} from './environment.js';

/**
 * LIFEBOAT_CONTROLLERS=off starts the clusters without their controller
 * managers, to compare with a run that has them (tests, the demo and the
 * benchmarks all run with them).
 */
function controllersWanted(env: NodeJS.ProcessEnv): boolean {
  const value = env['LIFEBOAT_CONTROLLERS'] ?? 'on';
  if (value !== 'on' && value !== 'off') {
    throw new Error(`LIFEBOAT_CONTROLLERS must be "on" or "off", not "${value}"`);
  }
  return value === 'on';
}

async function main(): Promise<number> {
  const separator = process.argv.indexOf('--');
  const command = separator >= 0 ? process.argv.slice(separator + 1) : [];
  let environment: LocalEnvironment | undefined;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (environment) {
      process.stderr.write('[env] stopping the local environment\n');
      await environment.stop();
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void stop().then(() => process.exit(130)));
  }

  const env = { ...process.env };
  if (environmentFromVariables(env)) {
    process.stderr.write('[env] reusing the running local environment\n');
  } else {
    environment = await startEnvironment({ controllers: controllersWanted(env) });
    Object.assign(env, environment.variables);
  }
  try {
    if (command.length === 0) {
      for (const [k, v] of Object.entries(env).filter(([k]) => environment?.variables[k])) {
        process.stdout.write(`export ${k}=${v}\n`);
      }
      process.stderr.write('[env] up; Ctrl-C stops it\n');
      await new Promise(() => undefined);
    }
    const [named, ...args] = command as [string, ...string[]];
    // `node` means the Node this runs on (22, from the npm package), whatever PATH says.
    const program = named === 'node' ? process.execPath : named;
    const child = spawn(program, args, { stdio: 'inherit', env });
    const forward = (s: NodeJS.Signals): void => void child.kill(s);
    process.on('SIGINT', forward);
    return await new Promise<number>((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
      child.on('error', (error) => {
        process.stderr.write(`[env] cannot run ${program}: ${error.message}\n`);
        resolve(127);
      });
    });
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[env] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
