import { resolve } from 'node:path';
import { exportYaml } from '../shared/restore/export-yaml.js';
import { keySourceFrom, sealerForBackup, storeFrom, type KeyFlags } from './connect.js';
import { CliNotFoundError, ExitCode, oneLine, UsageError } from './exit-codes.js';
import { clusterFlag, clusterLabel, findBackup, findCatalog } from './find-backup.js';
import type { OutputFormat } from './options.js';
import { emit, formatFields, formatTable, printJson, section } from './output.js';
import { verifyBackup } from './verify-backup.js';

export interface CatalogFlags extends KeyFlags {
  store?: string;
  cluster?: string;
  dir?: string;
  output: OutputFormat;
}

/**
 * `catalog verify NAME`: the catalog's digest, every pack's and every
 * object's, the counts; with the key, every sealed Secret opened too.
 * Exit 0 when all of it holds, 1 with the reason when anything does not.
 */
export async function verifyCatalog(name: string, flags: CatalogFlags): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const cluster = clusterFlag(flags.cluster);
  const key = keySourceFrom(flags);
  const backup = await findBackup(store, name, cluster);
  const where = `backup "${name}" of ${clusterLabel(backup.cluster)}`;
  try {
    if (!backup.hasCatalog) throw new Error('it has no catalog: the backup is incomplete');
    const { catalog, objects, packs, secrets } = await verifyBackup(
      store,
      backup.cluster,
      name,
      key,
    );
    const result = {
      backupId: name,
      cluster: backup.cluster,
      verified: true,
      phase: catalog.phase,
      digest: catalog.digest,
      objects,
      packs,
      secrets,
    };
    emit(flags.output, result, () =>
      formatFields([
        ['Backup', name],
        ['Cluster', clusterLabel(backup.cluster)],
        ['Phase', catalog.phase],
        ['Catalog digest', `${catalog.digest} (verified)`],
        ['Packs', `${packs} verified`],
        ['Objects', `${objects} verified`],
        [
          'Sealed Secrets',
          secrets.opened === secrets.sealed
            ? `${secrets.sealed} opened`
            : `${secrets.sealed} not opened (pass --key-file or --kms-key to check them too)`,
        ],
        ['Result', 'verified'],
      ]),
    );
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof UsageError || error instanceof CliNotFoundError) throw error;
    const reason = oneLine(error);
    if (flags.output === 'json')
      printJson({ backupId: name, cluster: backup.cluster, verified: false, reason });
    process.stderr.write(`lifeboat: ${where} failed verification: ${reason}\n`);
    return ExitCode.NotFullSuccess;
  }
}

/** `catalog export NAME --dir DIR`: plain YAML for `kubectl apply -f DIR`. */
export async function exportCatalog(name: string, flags: CatalogFlags): Promise<ExitCode> {
  if (!flags.dir) throw new UsageError('missing --dir DIR: where to write the YAML files');
  const store = storeFrom(flags.store);
  const cluster = clusterFlag(flags.cluster);
  const key = keySourceFrom(flags);
  const catalog = await findCatalog(store, name, cluster);
  const sealer = await sealerForBackup(store, key, catalog.encryption);
  const dir = resolve(flags.dir);
  const summary = await exportYaml(store, catalog.cluster, name, dir, sealer);
  emit(flags.output, { backupId: name, cluster: catalog.cluster, dir, ...summary }, () =>
    [
      formatFields([
        ['Backup', name],
        ['Cluster', clusterLabel(catalog.cluster)],
        ['Objects written', summary.objects],
        ['Directory', dir],
      ]),
      section('Files (apply in this order: kubectl apply -f DIR)', summary.files),
      section(
        'Skipped',
        formatTable(
          ['OBJECT', 'REASON'],
          summary.skipped.map((s) => [s.name, s.reason]),
        ),
      ),
    ].join(''),
  );
  return ExitCode.Ok;
}
