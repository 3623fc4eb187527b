import { HttpFunctions } from '../../functions/registry.js';
import type { ApiCall } from '../../local/api-recorder.js';
import { evaluateCondition } from '../unit/infra/iam-condition.js';
import { refsIn, type InfraModel, type Instance } from '../unit/infra/infra-model.js';
import { operationOf, PREDEFINED_ROLES, UnmappedCallError, type Scope } from './permissions.js';

/** One permission a function's service account holds, and the binding that grants it. */
export interface Grant {
  fn: string;
  scope: Scope;
  permission: string;
  /** The binding (and custom role) that grants it, with file:line. */
  via: string;
  /** The binding's address. */
  binding: string;
  /**
   * Granted by a predefined role: all its permissions come together, so the
   * binding counts as used when any of them is (see PREDEFINED_ROLES).
   */
  predefined: boolean;
  /** The binding's IAM condition, when it has one. */
  condition?: string;
  /**
   * For the bucket: the deployed store, as IAM names its objects
   * (projects/_/buckets/B/objects/PREFIX/), so a condition can be evaluated
   * on the store keys the function used.
   */
  store?: { bucket: string; objectRoot: string };
}

/** One permission a function used, with the API methods that needed it. */
export interface Use {
  fn: string;
  scope: Scope;
  permission: string;
  methods: string[];
  calls: number;
  /** For the bucket: the store keys it was used on ('' for the bucket itself, a listing). */
  keys: string[];
}

export interface Difference {
  fn: string;
  kind: 'used, not granted' | 'granted, never used';
  scope: Scope;
  permission: string;
  /** The methods that used it, or the binding that grants it. */
  detail: string;
}

const key = (scope: Scope, permission: string): string => `${scope} ${permission}`;

/** The HTTP functions' service accounts (google_service_account.<name>, infra/ui.tf), by resource. */
const HTTP_ACCOUNTS = new Map<string, string>(
  HttpFunctions.map((name) => [`google_service_account.${name}`, name]),
);

/** Where each IAM binding type grants what it grants. */
function scopeOf(binding: Instance): Scope | undefined {
  switch (binding.type) {
    case 'google_project_iam_member':
    case 'google_project_iam_binding':
      return 'project';
    case 'google_storage_bucket_iam_member':
    case 'google_storage_bucket_iam_binding':
      return 'bucket';
    case 'google_kms_crypto_key_iam_member':
    case 'google_kms_crypto_key_iam_binding':
      return 'key';
    case 'google_pubsub_topic_iam_member':
    case 'google_pubsub_topic_iam_binding': {
      const topic = refsIn(binding.attrs['topic']).find(
        (r) => r.resource === 'google_pubsub_topic.topic',
      );
      return topic?.key ? `topic:${topic.key}` : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Every permission infra/ grants each function's service account
 * (google_service_account.function[NAME]): the custom roles' permissions
 * where they are bound (project or bucket), and the permissions of the
 * predefined roles bound on a topic or the KMS key (PREDEFINED_ROLES).
 * A binding the comparison cannot read is a problem, never ignored.
 */
export function grantsOf(model: InfraModel): { grants: Grant[]; problems: string[] } {
  const grants: Grant[] = [];
  const problems: string[] = [];
  const byAddress = new Map(model.instances.map((i) => [i.address, i]));
  const at = (i: Instance): string => `${i.address} (${i.where})`;
  const stores = new Map<string, { bucket: string; objectRoot: string } | undefined>();
  const storeOfFunction = (fn: string): { bucket: string; objectRoot: string } | undefined => {
    if (!stores.has(fn)) stores.set(fn, storeOf(model, fn));
    return stores.get(fn);
  };
  for (const binding of model.instances.filter((i) => /_iam_(member|binding)$/.test(i.type))) {
    const members = refsIn([binding.attrs['member'], binding.attrs['members']]).filter(
      (r) =>
        (r.resource === 'google_service_account.function' && r.key) ||
        HTTP_ACCOUNTS.has(r.resource),
    );
    if (members.length === 0) continue;
    const scope = scopeOf(binding);
    const conditionBlock = (
      binding.attrs['condition'] as Record<string, unknown>[] | undefined
    )?.[0];
    const condition = conditionBlock ? String(conditionBlock['expression']) : undefined;
    const customRole = refsIn(binding.attrs['role'])
      .map((r) => byAddress.get(r.address))
      .find((i) => i?.type === 'google_project_iam_custom_role');
    let permissions: string[];
    let via = `${at(binding)}${condition ? ' (with a condition)' : ''}`;
    if (customRole) {
      permissions = (customRole.attrs['permissions'] as string[] | undefined) ?? [];
      via = `${via} role ${at(customRole)}`;
    } else {
      const role = String(binding.attrs['role']);
      const predefined = PREDEFINED_ROLES[role];
      if (!predefined) {
        problems.push(
          `${at(binding)} grants ${role}, whose permissions test/iam/permissions.ts PREDEFINED_ROLES does not list`,
        );
        continue;
      }
      permissions = predefined.checked;
      via = `${via} ${role}`;
    }
    if (!scope) {
      problems.push(
        `${at(binding)}: the IAM comparison cannot tell where a ${binding.type} grants`,
      );
      continue;
    }
    for (const m of members) {
      const fn = m.key ?? HTTP_ACCOUNTS.get(m.resource) ?? '';
      const store = scope === 'bucket' ? storeOfFunction(fn) : undefined;
      if (scope === 'bucket' && condition !== undefined && !store) {
        problems.push(
          `${at(binding)}: a condition on the bucket, but LIFEBOAT_STORE of function "${fn}" names no bucket of infra/`,
        );
        continue;
      }
      for (const permission of permissions) {
        grants.push({
          fn,
          scope,
          permission,
          via,
          binding: binding.address,
          predefined: !customRole,
          ...(condition !== undefined ? { condition } : {}),
          ...(store ? { store } : {}),
        });
      }
    }
  }
  return { grants, problems };
}

/** The permissions each recorded call needs, per function; calls no rule maps are problems. */
export function usesOf(
  calls: readonly ApiCall[],
  topicPrefix: string,
  /** The prefix of the store in its bucket ("lifeboat/" for gs://bucket/lifeboat). */
  storePrefix = '',
): { uses: Use[]; problems: string[] } {
  const uses = new Map<string, Use>();
  // One problem per function and API verb, with its first call as the example.
  const problems = new Map<string, { message: string; more: number }>();
  for (const call of calls) {
    let operation;
    try {
      operation = operationOf(call, topicPrefix);
    } catch (error) {
      if (error instanceof UnmappedCallError) {
        const k = `${call.fn} ${call.api} ${call.method}`;
        const known = problems.get(k);
        if (known) known.more++;
        else problems.set(k, { message: error.message, more: 0 });
        continue;
      }
      throw error;
    }
    for (const { permission, scope } of operation.needs) {
      const k = `${call.fn} ${key(scope, permission)}`;
      const use = uses.get(k) ?? {
        fn: call.fn,
        scope,
        permission,
        methods: [],
        calls: 0,
        keys: [],
      };
      if (!use.methods.includes(operation.method)) use.methods.push(operation.method);
      use.calls++;
      if (scope === 'bucket') {
        const key = storeKeyOf(call, storePrefix);
        if (!use.keys.includes(key)) use.keys.push(key);
      }
      uses.set(k, use);
    }
  }
  return {
    uses: [...uses.values()],
    problems: [...problems.values()].map(({ message, more }) =>
      more > 0 ? `${message} (and ${more} more ${more === 1 ? 'call' : 'calls'} like it)` : message,
    ),
  };
}

/**
 * Used and not granted, granted and never used: per function, per scope.
 * Scopes in `unchecked` (not exercised by the run) are left out of both
 * directions; `excused` grants (permissions.ts UNEXERCISED) are not
 * reported as unused.
 */
export function compareIam(
  uses: readonly Use[],
  grants: readonly Grant[],
  options: {
    functions: readonly string[];
    unchecked?: (scope: Scope) => boolean;
    excused?: readonly { fn: string; scope: Scope; permission: string }[];
  },
): Difference[] {
  const skip = options.unchecked ?? (() => false);
  const differences: Difference[] = [];
  for (const fn of options.functions) {
    const used = new Map(
      uses.filter((u) => u.fn === fn && !skip(u.scope)).map((u) => [key(u.scope, u.permission), u]),
    );
    const granted = new Map<string, Grant[]>();
    for (const g of grants.filter((x) => x.fn === fn && !skip(x.scope))) {
      const k = key(g.scope, g.permission);
      granted.set(k, [...(granted.get(k) ?? []), g]);
    }
    for (const [k, u] of used) {
      const gs = granted.get(k) ?? [];
      const detail = `${u.methods.join(', ')} (${u.calls} calls)`;
      if (gs.length === 0) {
        differences.push({
          fn,
          kind: 'used, not granted',
          scope: u.scope,
          permission: u.permission,
          detail,
        });
        continue;
      }
      // Granted under conditions only: every key it was used on must be admitted by one.
      if (u.scope !== 'bucket' || gs.some((g) => g.condition === undefined)) continue;
      const outside = u.keys.filter((key) => !gs.some((g) => admits(g, key)));
      if (outside.length > 0) {
        differences.push({
          fn,
          kind: 'used, not granted',
          scope: u.scope,
          permission: u.permission,
          detail: `${detail} on ${outside
            .slice(0, 3)
            .map((o) => o || '(the bucket)')
            .join(
              ', ',
            )}${outside.length > 3 ? ` and ${outside.length - 3} more keys` : ''}, outside the condition of ${gs.map((g) => g.via).join('; ')}`,
        });
      }
    }
    // A predefined role's binding is used when any permission it grants is.
    const usedBindings = new Set(
      [...granted]
        .filter(([k]) => used.has(k))
        .flatMap(([, gs]) => gs.filter((g) => g.predefined).map((g) => g.binding)),
    );
    for (const [k, all] of granted) {
      const u = used.get(k);
      // A conditional grant is used when a key it admits was used; an unconditional one, when used at all.
      const gs = all.filter((g) => {
        if (g.predefined) return !usedBindings.has(g.binding);
        if (g.condition === undefined || g.scope !== 'bucket') return !u;
        return !u?.keys.some((key) => admits(g, key));
      });
      if (gs.length === 0) continue;
      const g = gs[0]!;
      const excused = (options.excused ?? []).some(
        (e) => e.fn === fn && e.scope === g.scope && e.permission === g.permission,
      );
      if (excused) continue;
      differences.push({
        fn,
        kind: 'granted, never used',
        scope: g.scope,
        permission: g.permission,
        detail: gs.map((x) => x.via).join('; '),
      });
    }
  }
  return differences.sort(
    (a, b) =>
      a.fn.localeCompare(b.fn) ||
      a.kind.localeCompare(b.kind) ||
      a.scope.localeCompare(b.scope) ||
      a.permission.localeCompare(b.permission),
  );
}

/** The differences as a readable list, one function after another. */
export function describeDifferences(differences: readonly Difference[]): string {
  const lines: string[] = [];
  let last = '';
  for (const d of differences) {
    if (d.fn !== last) lines.push(`${d.fn}:`);
    last = d.fn;
    lines.push(`  ${d.kind}: ${d.permission} on the ${d.scope} — ${d.detail}`);
  }
  return lines.join('\n');
}

/** Per function: what it used, by scope (for the test's report). */
export function describeUses(uses: readonly Use[], functions: readonly string[]): string {
  return functions
    .map((fn) => {
      const mine = uses
        .filter((u) => u.fn === fn)
        .sort((a, b) => key(a.scope, a.permission).localeCompare(key(b.scope, b.permission)));
      const body = mine.map((u) => `  ${u.scope.padEnd(26)} ${u.permission}`).join('\n');
      return `${fn}:\n${body || '  (no Google Cloud API calls)'}`;
    })
    .join('\n');
}

/** Whether a bucket grant's condition admits the store key ('' is the bucket itself). */
function admits(grant: Grant, key: string): boolean {
  if (grant.condition === undefined) return true;
  if (!grant.store) return false;
  const resource =
    key === ''
      ? { name: `projects/_/buckets/${grant.store.bucket}`, type: 'storage.googleapis.com/Bucket' }
      : { name: `${grant.store.objectRoot}${key}`, type: 'storage.googleapis.com/Object' };
  // A condition this cannot read throws: reported, never guessed.
  return evaluateCondition(grant.condition, resource);
}

/** The store key a Cloud Storage call was about ('' for a listing of the bucket). */
function storeKeyOf(call: ApiCall, storePrefix: string): string {
  const m = /\/o\/([^/]+)$/.exec(call.path);
  const object = m ? decodeURIComponent(m[1]!) : (call.query['name'] ?? '');
  if (object === '') return '';
  return object.startsWith(storePrefix)
    ? object.slice(storePrefix.length)
    : `(outside the store) ${object}`;
}

/**
 * The store a function is deployed with (LIFEBOAT_STORE of
 * google_cloudfunctions2_function.function[fn]), its bucket resolved from
 * infra/, as IAM names its objects.
 */
function storeOf(
  model: InfraModel,
  fn: string,
): { bucket: string; objectRoot: string } | undefined {
  // A Pub/Sub function is an instance of google_cloudfunctions2_function.function; an HTTP one has its own resource.
  const f = model.instances.find(
    (i) =>
      i.type === 'google_cloudfunctions2_function' &&
      (i.key === fn || (i.key === null && i.name === fn)),
  );
  const service = (f?.attrs['service_config'] as Record<string, unknown>[] | undefined)?.[0];
  const url = (service?.['environment_variables'] as Record<string, unknown> | undefined)?.[
    'LIFEBOAT_STORE'
  ];
  if (typeof url !== 'string') return undefined;
  let unresolved = false;
  const resolved = url.replace(
    /@ref:(google_storage_bucket\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?)\.name/g,
    (_, address: string) => {
      const name = model.instances.find((i) => i.address === address)?.attrs['name'];
      if (typeof name !== 'string') unresolved = true;
      return String(name);
    },
  );
  const m = /^gs:\/\/([a-z0-9][-a-z0-9_.]*[a-z0-9])(?:\/(.*))?$/.exec(resolved);
  if (unresolved || !m) return undefined;
  const path = (m[2] ?? '').replace(/\/+$/, '');
  const bucket = m[1]!;
  return { bucket, objectRoot: `projects/_/buckets/${bucket}/objects/${path ? `${path}/` : ''}` };
}
