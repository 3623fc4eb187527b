import { Option } from 'commander';
import type { ClusterRef } from '../shared/messages/common.js';
import {
  RestoreNarrowing,
  RestoreOptions,
  VolumeDataPolicies,
  type ConflictPolicy,
} from '../shared/messages/restore.js';
import type { InProcessFlags } from './connect.js';
import { UsageError } from './exit-codes.js';
import {
  namespaceProblem,
  parseList,
  parseMappings,
  parseClusterRef,
  parseName,
  validateFlags,
  type OutputFormat,
} from './options.js';
import type { PipelineFlags } from './pipeline.js';

export interface RestoreFlags extends PipelineFlags, InProcessFlags {
  fromBackup: string;
  namespaceMappings?: string;
  includeNamespaces?: string;
  excludeNamespaces?: string;
  includeResources?: string;
  excludeResources?: string;
  existingResourcePolicy?: 'none' | 'update';
  conflictPolicy?: ConflictPolicy;
  volumeDataPolicy?: RestoreOptions['volumeDataPolicy'];
  zoneMappings?: string;
  dryRun?: boolean;
  /** false with --no-restore-status (commander sets true otherwise). */
  restoreStatus?: boolean;
  pipeline?: boolean;
  sourceCluster?: string;
  targetCluster?: string;
  plan?: string;
  output: OutputFormat;
}

export function restoreFilterOptions(): Option[] {
  return [
    new Option('--namespace-mappings <list>', 'restore namespaces under new names: old:new,...'),
    new Option('--include-namespaces <list>', 'namespaces to restore (globs; default *)'),
    new Option('--exclude-namespaces <list>', 'namespaces to leave out'),
    new Option('--include-resources <list>', 'resources to restore (default *)'),
    new Option('--exclude-resources <list>', 'resources to leave out'),
    new Option(
      '--existing-resource-policy <policy>',
      "Velero's name for --conflict-policy: none (= skip), update (= replace)",
    ).choices(['none', 'update']),
    new Option(
      '--conflict-policy <policy>',
      'when an object exists: fail, skip (default), replace',
    ).choices(['fail', 'skip', 'replace']),
    new Option('--volume-data-policy <policy>', 'how volumes get their data').choices(
      VolumeDataPolicies,
    ),
    new Option('--zone-mappings <list>', 'restore disks into other zones: from:to,...'),
    new Option('--dry-run', 'report what would be restored, and conflicts, without writing'),
    new Option(
      '--no-restore-status',
      "leave custom resources' status out (their controllers start from the spec alone)",
    ),
  ];
}

const EXISTING: Record<'none' | 'update', ConflictPolicy> = { none: 'skip', update: 'replace' };

/** The restore options of the flags; Velero's default for existing objects (skip) applies. */
export function restoreOptionsFrom(flags: RestoreFlags): RestoreOptions {
  if (flags.existingResourcePolicy && flags.conflictPolicy) {
    throw new UsageError(
      '--existing-resource-policy and --conflict-policy say the same thing: give only one',
    );
  }
  const conflictPolicy = flags.existingResourcePolicy
    ? EXISTING[flags.existingResourcePolicy]
    : (flags.conflictPolicy ?? 'skip');
  const options = {
    conflictPolicy,
    includeNamespaces: parseList(flags.includeNamespaces, '--include-namespaces'),
    excludeNamespaces: parseList(flags.excludeNamespaces, '--exclude-namespaces'),
    includeResources: parseList(flags.includeResources, '--include-resources'),
    excludeResources: parseList(flags.excludeResources, '--exclude-resources'),
    namespaceMapping: parseMappings(
      flags.namespaceMappings,
      '--namespace-mappings',
      namespaceProblem,
    ),
    zoneMapping: parseMappings(flags.zoneMappings, '--zone-mappings'),
    volumeDataPolicy: flags.volumeDataPolicy,
    dryRun: flags.dryRun === true,
    ...(flags.restoreStatus === false ? { restoreStatus: false } : {}),
  };
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return validateFlags(RestoreOptions, defined, 'restore flags');
}

/** The restore's name, or `<backup>-<yyyymmddhhmmss>` (UTC), kept to 63 characters. */
export function restoreNameFrom(name: string | undefined, backupId: string, now = new Date()) {
  if (name !== undefined) return parseName(name, 'restore name');
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${backupId.slice(0, 63 - stamp.length - 1).replace(/-+$/, '')}-${stamp}`;
}

/** The backup a restore reads (--from-backup) and the restore's own name. */
export function restoreIdsFrom(
  name: string | undefined,
  flags: Pick<RestoreFlags, 'fromBackup'>,
): { backupId: string; restoreId: string } {
  const backupId = parseName(flags.fromBackup, 'backup name');
  return { backupId, restoreId: restoreNameFrom(name, backupId) };
}

/** The cluster the backup is of, when --source-cluster names it (else it is found from the backup). */
export function sourceClusterFrom(
  flags: Pick<RestoreFlags, 'sourceCluster'>,
): ClusterRef | undefined {
  return flags.sourceCluster ? parseClusterRef(flags.sourceCluster, '--source-cluster') : undefined;
}

/** The flags a deployed restore plan decides, which a pipeline request cannot carry. */
const PLAN_DECIDES: [keyof RestoreFlags, string][] = [
  ['namespaceMappings', '--namespace-mappings'],
  ['existingResourcePolicy', '--existing-resource-policy'],
  ['conflictPolicy', '--conflict-policy'],
  ['volumeDataPolicy', '--volume-data-policy'],
  ['zoneMappings', '--zone-mappings'],
];

/**
 * What a pipeline request asks of its plan: fewer namespaces or resources,
 * or a dry run. Everything else is the plan's to decide.
 */
export function restoreNarrowingFrom(flags: RestoreFlags): RestoreNarrowing {
  const decided = PLAN_DECIDES.filter(([key]) => flags[key] !== undefined).map(([, f]) => f);
  if (flags.restoreStatus === false) decided.push('--no-restore-status');
  if (decided.length) {
    throw new UsageError(
      `${decided.join(', ')}: with --pipeline the restore plan decides this; a request may only narrow it (--include/--exclude-namespaces, --include/--exclude-resources, --dry-run)`,
    );
  }
  const narrowing = {
    includeNamespaces: parseList(flags.includeNamespaces, '--include-namespaces'),
    excludeNamespaces: parseList(flags.excludeNamespaces, '--exclude-namespaces'),
    includeResources: parseList(flags.includeResources, '--include-resources'),
    excludeResources: parseList(flags.excludeResources, '--exclude-resources'),
    ...(flags.dryRun ? { dryRun: true } : {}),
  };
  const defined = Object.fromEntries(Object.entries(narrowing).filter(([, v]) => v !== undefined));
  return validateFlags(RestoreNarrowing, defined, 'restore flags');
}
