import type { Command } from 'commander';
import type { CatalogFlags } from './catalog-run.js';
import { act } from './exit-codes.js';
import { clusterOption, keyFileOption, outputOption, storeOption } from './options.js';

/** `lifeboat catalog verify|export`. */
export function registerCatalogCommands(program: Command): void {
  const catalog = program.command('catalog').description('verify and export backup catalogs');

  catalog
    .command('verify')
    .description(
      "check that a backup is whole and untouched: the catalog's digest, every pack and object; with the key, every sealed Secret",
    )
    .argument('<name>', 'backup name')
    .addOption(storeOption())
    .addOption(clusterOption())
    .addOption(keyFileOption())
    .addOption(outputOption())
    .action(
      act(async (name: string, flags: CatalogFlags) =>
        (await import('./catalog-run.js')).verifyCatalog(name, flags),
      ),
    );

  catalog
    .command('export')
    .description('write a backup as plain YAML that kubectl apply -f accepts, in restore order')
    .argument('<name>', 'backup name')
    .addOption(storeOption())
    .requiredOption('--dir <dir>', 'directory to write the YAML files into')
    .addOption(clusterOption())
    .addOption(keyFileOption())
    .addOption(outputOption())
    .action(
      act(async (name: string, flags: CatalogFlags) =>
        (await import('./catalog-run.js')).exportCatalog(name, flags),
      ),
    );
}
