import type { Catalog } from '../shared/catalog/catalog-schema.js';
import { Layout } from '../shared/catalog/layout.js';
import type { PackRecord } from '../shared/catalog/pack.js';
import { qualifiedName } from '../shared/kube/discovery.js';
import { clusterLabel } from './find-backup.js';
import { formatBytes } from '../shared/format-bytes.js';
import { formatDuration, formatFields, formatTable, section } from './output.js';

/** What `backup create` reports, in JSON. */
export function backupSummary(catalog: Catalog, storeUrl: string, uploadedBytes?: number) {
  return {
    backupId: catalog.backupId,
    cluster: catalog.cluster,
    phase: catalog.phase,
    startedAt: catalog.startedAt,
    completedAt: catalog.completedAt,
    counts: catalog.counts,
    ...(uploadedBytes !== undefined ? { uploadedBytes } : {}),
    volumes: catalog.volumes.map((v) => ({
      pvName: v.pvName,
      status: v.status,
      ...(v.snapshot ? { snapshot: v.snapshot.name } : {}),
      ...(v.reason ? { reason: v.reason } : {}),
    })),
    warnings: catalog.warnings,
    errors: catalog.errors,
    catalog: `${storeUrl.replace(/\/$/, '')}/${Layout.catalog(catalog.cluster, catalog.backupId)}`,
  };
}

function volumeCounts(catalog: Catalog): string {
  const byStatus = new Map<string, number>();
  for (const v of catalog.volumes) byStatus.set(v.status, (byStatus.get(v.status) ?? 0) + 1);
  const detail = [...byStatus].map(([s, n]) => `${n} ${s}`).join(', ');
  return detail ? `${catalog.volumes.length} (${detail})` : '0';
}

function headline(catalog: Catalog): [string, string | number | undefined][] {
  const c = catalog.counts;
  return [
    ['Name', catalog.backupId],
    ['Cluster', clusterLabel(catalog.cluster)],
    ['Phase', catalog.phase],
    ['Objects', c.secrets > 0 ? `${c.objects} (${c.secrets} Secrets, sealed)` : c.objects],
    ['Packs', `${c.packs} (${formatBytes(c.packBytes)})`],
    ['Volumes', volumeCounts(catalog)],
    ['Warnings', catalog.warnings.length],
    ['Errors', catalog.errors.length],
  ];
}

function problems(catalog: Catalog): string {
  return [
    catalog.errors.length ? section('Errors', catalog.errors) : '',
    catalog.warnings.length ? section('Warnings', catalog.warnings) : '',
  ].join('');
}

/** The table form of `backup create`'s result. */
export function formatBackupSummary(summary: ReturnType<typeof backupSummary>, catalog: Catalog) {
  const fields = headline(catalog);
  if (summary.uploadedBytes !== undefined) {
    fields.push(['Uploaded', formatBytes(summary.uploadedBytes)]);
  }
  fields.push(['Duration', formatDuration(catalog.startedAt, catalog.completedAt)]);
  fields.push(['Catalog', summary.catalog]);
  return formatFields(fields) + problems(catalog);
}

/** The revision a backup was listed at, and every resource listed later than it. */
function pointInTime(catalog: Catalog): string {
  if (catalog.revision === undefined)
    return 'not recorded (each resource listed when its shard ran)';
  const late = catalog.resources.filter((r) => r.atRevision === false).map((r) => qualifiedName(r));
  return late.length === 0
    ? `revision ${catalog.revision} (every resource)`
    : `revision ${catalog.revision}, except ${late.sort().join(', ')} (listed later)`;
}

/** `backup describe`: everything the catalog says, and the objects with --details. */
export function formatDescribe(catalog: Catalog, records: PackRecord[] | undefined): string {
  const f = catalog.policy.filters;
  const fields: [string, string | number | undefined][] = [
    ...headline(catalog),
    ['Kubernetes version', catalog.kubernetesVersion],
    ['Point in time', pointInTime(catalog)],
    ['Policy', catalog.policy.name],
    [
      'Namespaces',
      f
        ? `${f.includeNamespaces.join(',')} (excluded: ${f.excludeNamespaces.join(',') || 'none'})`
        : '*',
    ],
    [
      'Resources',
      f
        ? `${f.includeResources.join(',')} (excluded: ${f.excludeResources.join(',') || 'none'})`
        : '*',
    ],
    ['Label selector', f?.labelSelector],
    ['Cluster resources', f?.includeClusterResources ?? 'auto'],
    ['Snapshot volumes', String(catalog.policy.snapshotVolumes)],
    [
      'Encryption',
      catalog.encryption
        ? `${catalog.encryption.keyId} (wrapped by ${catalog.encryption.wrappedBy})`
        : 'none',
    ],
    ['Started', catalog.startedAt],
    ['Completed', catalog.completedAt],
    ['Duration', formatDuration(catalog.startedAt, catalog.completedAt)],
    ['Digest', catalog.digest],
  ];
  const resources = formatTable(
    ['RESOURCE', 'KIND', 'VERSION', 'OBJECTS'],
    catalog.resources
      .filter((r) => r.objects > 0)
      .sort((a, b) => qualifiedName(a).localeCompare(qualifiedName(b)))
      .map((r) => [qualifiedName(r), r.kind, r.version, r.objects]),
  );
  const volumes = formatTable(
    ['PV', 'CLAIM', 'DRIVER', 'DISK', 'STATUS', 'SNAPSHOT', 'REASON'],
    catalog.volumes.map((v) => [
      v.pvName,
      v.pvcName ? `${v.pvcNamespace ?? ''}/${v.pvcName}` : undefined,
      v.driver,
      v.disk ? `${v.disk.project}/${v.disk.zone ?? v.disk.region ?? ''}/${v.disk.name}` : undefined,
      v.status,
      v.snapshot?.name ?? v.csiSnapshot?.name,
      v.reason,
    ]),
  );
  const objects = records
    ? section(
        'Objects',
        formatTable(
          ['KIND', 'NAMESPACE', 'NAME', 'STORED'],
          records
            .map((r) => [r.ref.kind, r.ref.namespace, r.ref.name, r.sealed ? 'sealed' : 'plain'])
            .sort((a, b) => a.join('/').localeCompare(b.join('/'))),
        ),
      )
    : '';
  return (
    formatFields(fields) +
    section('Resources', resources) +
    section('Volumes', volumes) +
    problems(catalog) +
    objects
  );
}
