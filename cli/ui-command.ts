import type { Command } from 'commander';
import { Layout } from '../shared/catalog/layout.js';
import { dataKeyId, loadSealer } from '../shared/catalog/data-key.js';
import type { Sealer } from '../shared/crypto/sealer.js';
import type { ObjectStore } from '../shared/store/object-store.js';
import { keyLabel, keySourceFrom, keyWrapper, storeFrom, type KeyFlags } from './connect.js';
import { act, ExitCode, UsageError } from './exit-codes.js';
import { keyFileOption, kmsKeyOption, storeOption } from './options.js';

interface UiFlags extends KeyFlags {
  store?: string;
  port?: string;
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new UsageError(
      `invalid --port "${value}": expected a TCP port, 0 to 65535 (0: any free one)`,
    );
  }
  return port;
}

/**
 * The store's data key, read-only: the page lists a Secret's keys with it and
 * verifies seals. loadSealer would create a missing key, and the UI never
 * writes, so a key the store does not hold is a usage error naming it.
 */
async function readOnlySealer(store: ObjectStore, flags: KeyFlags): Promise<Sealer | undefined> {
  const source = keySourceFrom(flags);
  if (!source) return undefined;
  const wrapper = keyWrapper(source);
  const key = Layout.dataKey(dataKeyId(wrapper));
  if (!(await store.exists(key))) {
    throw new UsageError(
      `${keyLabel(source)} wraps no data key in ${store.url} (no ${key}): is it this store's key?`,
    );
  }
  return loadSealer(store, wrapper);
}

async function runUi(flags: UiFlags): Promise<ExitCode> {
  const port = parsePort(flags.port);
  const store = storeFrom(flags.store);
  const sealer = await readOnlySealer(store, flags);
  const { startUiServer } = await import('../shared/ui/ui-server.js');
  const server = await startUiServer({ store, port, ...(sealer ? { sealer } : {}) });
  process.stdout.write(`Lifeboat UI on ${server.url} (read-only; Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return ExitCode.Ok;
}

/** `lifeboat ui`. */
export function registerUiCommand(program: Command): void {
  program
    .command('ui')
    .description(
      "serve a read-only page over the store on 127.0.0.1: clusters and their RPO, each cluster's backups, a backup's contents and volumes, what changed between two backups, restores",
    )
    .addOption(storeOption())
    .addOption(keyFileOption())
    .addOption(kmsKeyOption())
    .option('--port <port>', 'port on 127.0.0.1 (default: any free one)')
    .action(act(runUi));
}
