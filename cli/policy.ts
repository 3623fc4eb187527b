import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_FILTERS } from '../shared/backup/plan.js';
import { errorMessage } from '../shared/errors.js';
import { resourceSelected } from '../shared/kube/filters.js';
import { BackupPolicy, type BackupFilters } from '../shared/messages/common.js';
import { UsageError } from './exit-codes.js';
import { parseBool, parseList, parseSelector, validateFlags } from './options.js';

/** The Velero-style filter flags of `backup create`, as commander hands them over. */
export interface FilterFlags {
  includeNamespaces?: string;
  excludeNamespaces?: string;
  includeResources?: string;
  excludeResources?: string;
  selector?: string;
  includeClusterResources?: 'auto' | 'true' | 'false';
  snapshotVolumes?: string | boolean;
}

/** A BackupPolicy from a YAML or JSON file; every problem names the file. */
export function readPolicyFile(path: string): BackupPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read policy file ${path}: ${errorMessage(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new UsageError(
      `policy file ${path} is not valid YAML or JSON: ${errorMessage(error).split('\n')[0]}`,
    );
  }
  return validateFlags(BackupPolicy, parsed, `policy file ${path}`);
}

const CLUSTER_RESOURCES = { auto: 'auto', true: 'on', false: 'off' } as const;

/**
 * The policy of a CLI backup: the policy file if given, else policy `cli`
 * for `project`; each filter flag given replaces that filter.
 */
export function policyFrom(
  base: BackupPolicy | undefined,
  flags: FilterFlags,
  project: string,
): BackupPolicy {
  const filters: BackupFilters = { ...DEFAULT_FILTERS, ...base?.filters };
  const lists = {
    includeNamespaces: parseList(flags.includeNamespaces, '--include-namespaces'),
    excludeNamespaces: parseList(flags.excludeNamespaces, '--exclude-namespaces'),
    includeResources: parseList(flags.includeResources, '--include-resources'),
    excludeResources: parseList(flags.excludeResources, '--exclude-resources'),
  };
  for (const [key, value] of Object.entries(lists)) {
    if (value) filters[key as keyof typeof lists] = value;
  }
  const selector = parseSelector(flags.selector);
  if (selector !== undefined) filters.labelSelector = selector;
  if (flags.includeClusterResources !== undefined) {
    filters.includeClusterResources = CLUSTER_RESOURCES[flags.includeClusterResources];
  }
  const snapshotVolumes = parseBool(
    flags.snapshotVolumes,
    '--snapshot-volumes',
    base?.snapshotVolumes ?? true,
  );
  const policy = base
    ? { ...structuredClone(base), filters, snapshotVolumes }
    : { name: 'cli', projects: [project], snapshotVolumes, filters };
  return validateFlags(BackupPolicy, policy, 'backup flags');
}

const SECRETS = { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true };

/** Whether the policy's filters take Secrets (which are only ever stored sealed). */
export function takesSecrets(policy: BackupPolicy): boolean {
  const f = policy.filters ?? DEFAULT_FILTERS;
  return resourceSelected(SECRETS, f.includeResources, f.excludeResources);
}

/** Fails before any work when Secrets would be backed up but there is no key to seal them. */
export function requireKeyForSecrets(policy: BackupPolicy, key: object | undefined): void {
  if (key || !takesSecrets(policy)) return;
  throw new UsageError(
    'Secrets are only stored encrypted and no key was given: pass --key-file FILE (or set ' +
      'LIFEBOAT_KEY_FILE; create one with `openssl rand -base64 32 > lifeboat.key`) or --kms-key ' +
      'projects/P/locations/L/keyRings/R/cryptoKeys/K (or set LIFEBOAT_KMS_KEY), or leave ' +
      'Secrets out with --exclude-resources secrets',
  );
}
