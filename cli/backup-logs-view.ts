import type { BackupPlan } from '../shared/backup/parts.js';
import type { ClusterRef } from '../shared/messages/common.js';
import { clusterLabel } from './find-backup.js';
import { formatFields, formatTable, section } from './output.js';

/** One planned shard and what its parts say of it. */
export interface ShardRecord {
  shardId: string;
  status: 'ok' | 'failed' | 'pending';
  segments: number;
  objects: number;
  error?: string;
}

/** One planned volume and what its part says of it (PENDING until it has one). */
export interface VolumeRow {
  pvName: string;
  status: string;
  snapshot: string | undefined;
  errors: string[];
  warnings: string[];
}

/** What `backup logs` reports, in JSON: the plan and each shard's and volume's outcome. */
export interface BackupLog {
  backupId: string;
  cluster: ClusterRef;
  catalogWritten: boolean;
  plan: BackupPlan;
  shards: ShardRecord[];
  volumes: VolumeRow[];
}

const count = (rows: { status: string }[], status: string): number =>
  rows.filter((r) => r.status === status).length;

/** `backup logs` as a table: the plan's fields, then a row a shard and a row a volume. */
export function formatBackupLog({
  backupId,
  cluster,
  catalogWritten,
  plan,
  shards,
  volumes,
}: BackupLog): string {
  return [
    formatFields([
      ['Name', backupId],
      ['Cluster', clusterLabel(cluster)],
      ['Kubernetes version', plan.kubernetesVersion],
      ['Planned', plan.startedAt],
      ['Policy', plan.policy.name],
      [
        'Shards',
        `${shards.length} (${count(shards, 'ok')} ok, ${count(shards, 'failed')} failed, ${count(shards, 'pending')} pending)`,
      ],
      [
        'Volumes',
        `${volumes.length} (${count(volumes, 'READY')} READY, ${count(volumes, 'PENDING')} pending)`,
      ],
      ['Catalog', catalogWritten ? 'written' : 'not written (backup unfinished)'],
    ]),
    section(
      'Shards',
      formatTable(
        ['SHARD', 'STATUS', 'SEGMENTS', 'OBJECTS', 'ERROR'],
        shards.map((s) => [s.shardId, s.status, s.segments, s.objects, s.error]),
      ),
    ),
    section(
      'Volumes',
      formatTable(
        ['PV', 'STATUS', 'SNAPSHOT', 'ERRORS'],
        volumes.map((v) => [v.pvName, v.status, v.snapshot, v.errors.join('; ')]),
      ),
    ),
    plan.warnings.length ? section('Warnings', plan.warnings) : '',
  ].join('');
}
