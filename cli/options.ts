import { Option, type Command } from 'commander';
import type { TSchema, Static } from '@sinclair/typebox';
import { ValidationError } from '../shared/errors.js';
import { BackupId, ClusterRef } from '../shared/messages/common.js';
import { FLAG_DURATION, parseDuration } from '../shared/time/duration.js';
import { validate } from '../shared/validate.js';
import { UsageError } from './exit-codes.js';

export const OutputFormats = ['table', 'json'] as const;
export type OutputFormat = (typeof OutputFormats)[number];

/** `-o, --output table|json` (commander rejects any other value with a usage error). */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format')
    .choices(OutputFormats)
    .default('table');
}

const LABEL = new RegExp(BackupId.pattern ?? '^$');
const LABEL_RULE =
  'must be a lowercase RFC 1123 label: a-z, 0-9 and "-", starting and ending with a letter or digit, at most 63 characters';

/** A backup or restore id, which names keys in the store and labels in the cluster. */
export function parseName(value: string, what: string): string {
  if (!LABEL.test(value)) throw new UsageError(`invalid ${what} "${value}": ${LABEL_RULE}`);
  return value;
}

/** `a,b,c` → ['a', 'b', 'c']; undefined when the flag was not given. */
export function parseList(value: string | undefined, flag: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) {
    throw new UsageError(`invalid ${flag} "${value}": expected a comma-separated list of names`);
  }
  return items;
}

/** `old:new,...` (namespace or zone mappings); both sides must be non-empty, keys unique. */
export function parseMappings(
  value: string | undefined,
  flag: string,
  check?: (name: string) => string | undefined,
): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const mapping: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const m = /^([^:]+):([^:]+)$/.exec(pair.trim());
    if (!m?.[1] || !m[2]) {
      throw new UsageError(
        `invalid ${flag} "${value}": "${pair}" must be OLD:NEW with both names non-empty`,
      );
    }
    const [from, to] = [m[1].trim(), m[2].trim()];
    const problem = check?.(from) ?? check?.(to);
    if (problem) throw new UsageError(`invalid ${flag} "${value}": ${problem}`);
    if (from in mapping) throw new UsageError(`invalid ${flag} "${value}": "${from}" mapped twice`);
    mapping[from] = to;
  }
  return mapping;
}

/** A namespace name: the same label rule as backup ids. */
export function namespaceProblem(name: string): string | undefined {
  return LABEL.test(name) ? undefined : `namespace "${name}" ${LABEL_RULE}`;
}

/** `true`/`false` for Velero-style optional booleans (`--snapshot-volumes=false`). */
export function parseBool(value: string | boolean | undefined, flag: string, fallback: boolean) {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new UsageError(`invalid ${flag} "${String(value)}": expected true or false`);
}

const KEY = '([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?';
const VALUE = '([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?';
const TERM = new RegExp(
  `^(!?${KEY}|${KEY}\\s*(=|==|!=)\\s*${VALUE}|${KEY}\\s+(in|notin)\\s+\\(\\s*${VALUE}(\\s*,\\s*${VALUE})*\\s*\\))$`,
);

/** A Kubernetes label selector (`app=web,tier!=db,env in (a,b)`), checked term by term. */
export function parseSelector(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of value) {
    if (c === ',' && depth === 0) {
      terms.push(current);
      current = '';
      continue;
    }
    if (c === '(') depth++;
    if (c === ')') depth--;
    current += c;
  }
  terms.push(current);
  const bad = terms.find((t) => !TERM.test(t.trim()));
  if (bad !== undefined || value.trim() === '') {
    throw new UsageError(
      `invalid --selector "${value}": "${bad ?? value}" is not a label selector term (key=value, key!=value, key, !key, key in (a,b))`,
    );
  }
  return value;
}

/** `PROJECT/LOCATION/NAME` → a ClusterRef (`local/local/CONTEXT` in local mode). */
export function parseClusterRef(value: string, flag: string): ClusterRef {
  const parts = value.split('/');
  if (parts.length !== 3) {
    throw new UsageError(`invalid ${flag} "${value}": expected PROJECT/LOCATION/NAME`);
  }
  const [project, location, name] = parts as [string, string, string];
  return validateFlags(ClusterRef, { project, location, name }, `${flag} "${value}"`);
}

/** `90s`, `30m`, `2h`, `500ms` → milliseconds. */
export function parseDurationFlag(value: string, flag: string): number {
  const ms = parseDuration(value, FLAG_DURATION);
  if (ms === undefined) {
    throw new UsageError(`invalid ${flag} "${value}": expected a duration such as 90s, 30m or 2h`);
  }
  return ms;
}

/** Schema validation of values built from flags: a failure is a usage error (exit 2). */
export function validateFlags<S extends TSchema>(
  schema: S,
  value: unknown,
  where: string,
): Static<S> {
  try {
    return validate(schema, value, where);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new UsageError(error.message.replace(/^Invalid /, 'invalid '));
    }
    throw error;
  }
}

/** A flag's value, or its environment variable's, or a usage error saying how to give it. */
export function requireSetting(
  value: string | undefined,
  flag: string,
  envName: string | undefined,
  hint: string,
): string {
  const found = value ?? (envName ? process.env[envName] : undefined);
  if (found) return found;
  const env = envName ? ` (or set ${envName})` : '';
  throw new UsageError(`missing ${flag}${env}: ${hint}`);
}

export function optionalSetting(value: string | undefined, envName: string): string | undefined {
  const found = value ?? process.env[envName];
  return found === '' ? undefined : found;
}

/** A factory of one option, for options many commands share (each command gets its own). */
const sharedOption = (flags: string, description: string) => (): Option =>
  new Option(flags, description);

/** --store, shared by every command that reads or writes backups. */
export const storeOption = sharedOption(
  '--store <url>',
  'backup store: gs://BUCKET[/PREFIX] or file:///DIR (default: $LIFEBOAT_STORE)',
);

export const keyFileOption = sharedOption(
  '--key-file <file>',
  'key that seals Secrets, 32 bytes raw or base64 (default: $LIFEBOAT_KEY_FILE)',
);

export const kmsKeyOption = sharedOption(
  '--kms-key <name>',
  'Cloud KMS key that wraps the data key instead of a key file: projects/P/locations/L/keyRings/R/cryptoKeys/K (default: $LIFEBOAT_KMS_KEY)',
);

export const clusterOption = sharedOption(
  '--cluster <project/location/name>',
  'the cluster whose backup is meant, when several clusters have a backup of that name',
);

/** The two ways to give the key: a key file or a Cloud KMS key. */
export const keyOptions = (): Option[] => [keyFileOption(), kmsKeyOption()];

/** Where a backup is found: the store, and its cluster when several have a backup of that name. */
export const backupLookupOptions = (): Option[] => [storeOption(), clusterOption()];

/** Adds options in order (commander's addOption takes one at a time). */
export function addOptions(command: Command, options: Option[]): Command {
  for (const option of options) command.addOption(option);
  return command;
}

/** The help of the options that say where an in-process command runs. */
export interface InProcessHelp {
  /** After "kubeconfig": whose it is. */
  kubeconfig: string;
  /** After "kubeconfig context": which one; no --context option without it. */
  context?: string;
  /** After "Compute Engine API endpoint for": what for, and its default. */
  computeEndpoint: string;
}

/**
 * The cluster (kubeconfig and context), the store, the key and the Compute
 * Engine endpoint of a command that runs in-process, in that order.
 */
export function inProcessOptions(help: InProcessHelp): Option[] {
  return [
    new Option('--kubeconfig <file>', `kubeconfig ${help.kubeconfig} (default: $KUBECONFIG)`),
    ...(help.context === undefined
      ? []
      : [
          new Option(
            '--context <context>',
            `kubeconfig context ${help.context} (default: the current one)`,
          ),
        ]),
    storeOption(),
    keyFileOption(),
    kmsKeyOption(),
    new Option(
      '--compute-endpoint <url>',
      `Compute Engine API endpoint for ${help.computeEndpoint}`,
    ),
  ];
}

/** How to reach the deployed pipeline (--pipeline mode). */
export function pipelineOptions(follow: boolean): Option[] {
  const options = [
    new Option(
      '--project <project>',
      'project Lifeboat is deployed in (default: $LIFEBOAT_PROJECT)',
    ),
    new Option('--topic-prefix <prefix>', 'prefix of the deployed topics').default('lifeboat-'),
  ];
  if (follow) {
    options.push(
      new Option('--timeout <duration>', 'how long to wait for completion (90s, 30m, 2h)').default(
        '30m',
      ),
    );
  }
  return options;
}
