import { Option, type Command } from 'commander';
import type { CatalogFlags } from './catalog-run.js';
import { act, UsageError } from './exit-codes.js';
import {
  backupLookupOptions,
  clusterOption,
  keyOptions,
  outputOption,
  storeOption,
} from './options.js';
import { subcommand } from './subcommand.js';

/** `lifeboat catalog verify|seal|export`. */
export function registerCatalogCommands(program: Command): void {
  const catalog = program.command('catalog').description('verify and export backup catalogs');

  subcommand(catalog, 'verify', {
    description:
      "check that a backup is whole and untouched: the catalog's digest, every pack and object; with the key, every sealed Secret. " +
      'With --all, every backup of every cluster in the store (a scrub): exit 1 when any is not restorable',
    arguments: [['[name]', 'backup name (or --all)']],
    options: [
      new Option(
        '--all',
        'verify every backup in the store; incomplete ones are listed, not failed',
      ),
      ...backupLookupOptions(),
      ...keyOptions(),
      outputOption(),
    ],
  }).action(
    act(async (name: string | undefined, flags: CatalogFlags & { all?: boolean }) => {
      if (flags.all && name !== undefined)
        throw new UsageError(`pass a backup NAME or --all, not both (got "${name}" and --all)`);
      if (flags.all) return (await import('./catalog-scrub.js')).verifyAll(flags);
      if (name === undefined)
        throw new UsageError('missing backup NAME: pass one, or --all to verify every backup');
      return (await import('./catalog-run.js')).verifyCatalog(name, flags);
    }),
  );

  subcommand(catalog, 'seal', {
    description:
      'authenticate backups written before catalogs were sealed: each is verified in full with the key (catalog, packs, objects, every Secret), then sealed; automatic restores use only sealed backups',
    arguments: [['[names...]', 'backups to seal (or --all)']],
    options: [
      new Option('--all', 'every backup in the store'),
      storeOption(),
      ...keyOptions(),
      outputOption(),
    ],
  }).action(
    act(async (names: string[], flags: CatalogFlags & { all?: boolean }) => {
      if (flags.all === names.length > 0)
        throw new UsageError('pass backup NAMEs or --all (exactly one of the two)');
      return (await import('./catalog-scrub.js')).verifyAll(flags, {
        seal: true,
        ...(flags.all ? {} : { names }),
      });
    }),
  );

  subcommand(catalog, 'export', {
    description: 'write a backup as plain YAML that kubectl apply -f accepts, in restore order',
    arguments: [['<name>', 'backup name']],
    options: [
      storeOption(),
      new Option('--dir <dir>', 'directory to write the YAML files into').makeOptionMandatory(),
      clusterOption(),
      ...keyOptions(),
      outputOption(),
    ],
  }).action(
    act(async (name: string, flags: CatalogFlags) =>
      (await import('./catalog-run.js')).exportCatalog(name, flags),
    ),
  );
}
