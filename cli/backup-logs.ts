import { readParts, readPlan, type ManifestPart, type VolumePart } from '../shared/backup/parts.js';
import { NotFoundError } from '../shared/errors.js';
import type { BackupInspectFlags } from './backup-inspect.js';
import {
  formatBackupLog,
  type BackupLog,
  type ShardRecord,
  type VolumeRow,
} from './backup-logs-view.js';
import { storeFrom } from './connect.js';
import { CliNotFoundError, ExitCode } from './exit-codes.js';
import { clusterFlag, clusterLabel, findBackup } from './find-backup.js';
import { emit } from './output.js';

function shardRecords(shardIds: string[], parts: ManifestPart[]): ShardRecord[] {
  return shardIds.map((shardId) => {
    const own = parts.filter((p) => p.shardId === shardId);
    const failed = own.find((p) => !p.ok);
    const status = failed ? 'failed' : own.some((p) => p.done) ? 'ok' : 'pending';
    return {
      shardId,
      status,
      segments: own.length,
      objects: own.reduce((n, p) => n + p.objects, 0),
      ...(failed?.error ? { error: failed.error } : {}),
    };
  });
}

function volumeRows(planned: string[], parts: VolumePart[]): VolumeRow[] {
  return planned.map((pvName) => {
    const part = parts.find((p) => p.pvName === pvName);
    return {
      pvName,
      status: part ? part.volume.status : 'PENDING',
      snapshot: part?.volume.snapshot?.name ?? part?.volume.csiSnapshot?.name,
      errors: part?.errors ?? [],
      warnings: part?.warnings ?? [],
    };
  });
}

/**
 * `backup logs NAME`: there is no separate log store; a backup's parts are
 * its record. Shows the plan, each shard's outcome and each volume's.
 */
export async function backupLogs(name: string, flags: BackupInspectFlags): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const cluster = clusterFlag(flags.cluster);
  const backup = await findBackup(store, name, cluster);
  let plan;
  try {
    plan = await readPlan(store, backup.cluster, name);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new CliNotFoundError(
      `backup "${name}" of ${clusterLabel(backup.cluster)} has no plan in ${store.url}`,
    );
  }
  const parts = await readParts(store, backup.cluster, name);
  const shards = shardRecords(
    plan.shards.map((s) => s.shardId),
    parts.manifests,
  );
  const volumes = volumeRows(plan.volumes, parts.volumes);
  const log: BackupLog = {
    backupId: name,
    cluster: backup.cluster,
    catalogWritten: backup.hasCatalog,
    plan,
    shards,
    volumes,
  };
  emit(flags.output, log, () => formatBackupLog(log));
  return ExitCode.Ok;
}
