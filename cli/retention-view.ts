import { Layout } from '../shared/catalog/layout.js';
import type { RetentionReport } from '../shared/pipeline/retention.js';
import { clusterLabel } from './find-backup.js';
import { formatFields, formatTable, section } from './output.js';

/** The sweep names clusters by store key (`p.l.n`); the CLI by `p/l/n`. */
export function clusterOfKey(key: string): string {
  const cluster = Layout.parseClusterKey(key);
  return cluster ? clusterLabel(cluster) : key;
}

type Entry = RetentionReport['kept'][number];

const entries = (list: readonly Entry[]): string =>
  formatTable(
    ['CLUSTER', 'BACKUP', 'REASON'],
    list.map((e) => [clusterOfKey(e.cluster), e.backupId, e.reason]),
  );

/** The sweep's report for people: what expired and was kept, what it could not do, what it deleted. */
export function formatRetention(r: RetentionReport, url: string): string {
  const dry = r.dryRun;
  const notInDryRun = 'not examined in a dry run';
  return [
    `Retention sweep of ${url}${dry ? ' (dry run: nothing was deleted)' : ''}`,
    section(dry ? 'Expired (would be deleted)' : 'Expired', entries(r.expired)),
    section('Kept', entries(r.kept)),
    section(
      'Finished (abandoned backups given a catalog)',
      formatTable(
        ['CLUSTER', 'BACKUP', 'MISSING'],
        r.finished.map((f) => [clusterOfKey(f.cluster), f.backupId, f.missing.join('; ')]),
      ),
    ),
    section('Unreadable catalogs (nothing collected around them)', entries(r.unreadable)),
    section('Held', r.held),
    section(
      'Not restorable',
      dry ? `${notInDryRun} (see: lifeboat catalog verify --all)` : entries(r.unrestorable),
    ),
    `\n\n${formatFields([
      ['Deleted packs', dry ? notInDryRun : r.deletedPacks],
      [
        'Deleted snapshots',
        dry
          ? notInDryRun
          : r.deletedSnapshots.length === 0
            ? 0
            : `${r.deletedSnapshots.length}: ${r.deletedSnapshots.join(', ')}`,
      ],
    ])}`,
    section('Errors', r.errors),
  ].join('');
}
