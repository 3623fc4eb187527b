import { evaluateCondition } from './iam-condition.js';
import { refsIn, type Instance, type InfraModel, type Ref } from './infra-model.js';

/** What the code says is deployed: functions/registry.ts and shared/bus/topics.ts. */
export interface CodeFlow {
  functions: Readonly<Record<string, { trigger: string; publishes: readonly string[] }>>;
  topicRoles: readonly string[];
  /** The audit log methods the clusterEvents function handles. */
  watchedMethods: readonly string[];
  /** Problems with a message a scheduler job publishes to `role` (none when valid). */
  validateTick: (role: string, body: unknown) => string[];
  /**
   * Reads a rendered LIFEBOAT_DEPLOYMENT as the functions do: its problems
   * (none when the code accepts it) and each deployed backup policy, by
   * name, as canonical JSON after the schema's defaults.
   */
  readDeployment: (text: string) => { problems: string[]; policies: Record<string, string> };
  /**
   * The backup policy a message published to `role` carries, as canonical
   * JSON after the schema's defaults; undefined when the role's messages
   * carry no policy or the message is invalid (validateTick says why).
   */
  tickPolicy: (role: string, body: unknown) => { name: string; canonical: string } | undefined;
  /**
   * Functions whose object writes (`permissions`: storage.objects.create,
   * storage.objects.delete) are limited to some keys of the store: the keys
   * each writes (it must have every permission on each) and keys it must
   * not touch, a backup's above all (it must have none of them there).
   */
  confinedWrites: Readonly<
    Record<
      string,
      {
        permissions: readonly string[];
        writes: readonly string[];
        protects: readonly string[];
      }
    >
  >;
  /** The functions that load the store's data key (to seal or open Secrets and catalogs). */
  dataKeyFunctions: readonly string[];
  /**
   * The functions called over HTTP (functions/registry.ts HttpFunctions):
   * read-only, triggered by no topic, invoked only by the principals in
   * var.ui_invokers.
   */
  httpFunctions: readonly string[];
}

export const Checks = [
  'topics',
  'functions',
  'triggers',
  'iam',
  'publishing',
  'entry points',
  'deployment',
  'http functions',
] as const;
export type Check = (typeof Checks)[number];

export interface Problem {
  check: Check;
  message: string;
}

/** The longest a function may run: Pub/Sub push waits at most 600 s for its response. */
const MAX_TIMEOUT_SECONDS = 540;
const ALLOWED_PREDEFINED: Record<string, readonly string[]> = {
  google_pubsub_topic_iam_member: ['roles/pubsub.publisher'],
  google_kms_crypto_key_iam_member: [
    'roles/cloudkms.cryptoKeyEncrypterDecrypter',
    'roles/cloudkms.cryptoKeyEncrypter',
    'roles/cloudkms.cryptoKeyDecrypter',
  ],
};

interface TopicInfo {
  role: string;
  dead: boolean;
}

interface Grant {
  binding: Instance;
  /** A predefined role name, or undefined when the role is a custom role. */
  role: string | undefined;
  customRole: Instance | undefined;
  members: Ref[];
  /** The first resource the binding is on (topic, bucket, key ...), if any. */
  target: Ref | undefined;
}

/**
 * Proves that infra/ deploys exactly the flow the code defines: every
 * function, with its own service account, custom role and trigger on the
 * right topic; every topic with its dead-letter topic; every publication
 * allowed on exactly the topics the function publishes to; every topic that
 * no function publishes to fed by a scheduler job or the log sink; and
 * nothing in infra/ the code does not have. Returns every problem found.
 */
export function checkInfra(model: InfraModel, code: CodeFlow): Problem[] {
  const problems: Problem[] = [];
  const problem = (check: Check, message: string): void => {
    problems.push({ check, message });
  };
  const prefix = String(model.vars['prefix'] ?? '');
  const byAddress = new Map(model.instances.map((i) => [i.address, i]));
  const ofType = (type: string): Instance[] => model.instances.filter((i) => i.type === type);
  const resolve = (ref: Ref | undefined): Instance | undefined =>
    ref ? byAddress.get(ref.address) : undefined;
  const at = (i: Instance): string => `${i.address} (${i.where})`;

  // Topics: every role has its topic and dead-letter topic; no other topic.
  const topics = new Map<string, TopicInfo>();
  for (const t of ofType('google_pubsub_topic')) {
    const name = String(t.attrs['name']);
    const info = topicRoleOf(name, prefix, code.topicRoles);
    if (!info) {
      problem(
        'topics',
        `${at(t)} is topic "${name}": no topic role of shared/bus/topics.ts has that name or its dead-letter name`,
      );
      continue;
    }
    topics.set(t.address, info);
    if (t.key !== info.role) {
      problem('topics', `${at(t)}: name the instance after its topic role, "${info.role}"`);
    }
  }
  const topicOf = (value: unknown): TopicInfo | undefined => {
    for (const ref of refsIn(value)) {
      const info = topics.get(ref.address);
      if (info) return info;
    }
    return undefined;
  };
  const subscriptions = ofType('google_pubsub_subscription');
  for (const role of code.topicRoles) {
    for (const dead of [false, true]) {
      const name = dead ? `${prefix}${role}-dead-letter` : `${prefix}${role}`;
      const n = [...topics.values()].filter((t) => t.role === role && t.dead === dead).length;
      if (n === 0)
        problem(
          'topics',
          `topic role "${role}": infra/ has no google_pubsub_topic named "${name}"`,
        );
      if (n > 1)
        problem(
          'topics',
          `topic role "${role}": ${n} google_pubsub_topic instances named "${name}"`,
        );
    }
    const kept = subscriptions.some((s) => {
      const t = topicOf(s.attrs['topic']);
      return t?.dead === true && t.role === role && block(s.attrs, 'push_config') === undefined;
    });
    if (!kept) {
      problem(
        'topics',
        `topic role "${role}": no pull subscription on its dead-letter topic, so dead letters would be lost`,
      );
    }
  }

  // Functions: exactly one per registered function, by entry point; no other.
  const functions = new Map<string, Instance>();
  const httpFunctions = new Map<string, Instance[]>();
  for (const f of ofType('google_cloudfunctions2_function')) {
    const entry = block(f.attrs, 'build_config')?.['entry_point'];
    if (typeof entry === 'string' && code.httpFunctions.includes(entry)) {
      httpFunctions.set(entry, [...(httpFunctions.get(entry) ?? []), f]);
      continue;
    }
    if (typeof entry !== 'string' || !(entry in code.functions)) {
      problem(
        'functions',
        `${at(f)} deploys entry point ${JSON.stringify(entry)}, which functions/registry.ts does not register`,
      );
      continue;
    }
    if (functions.has(entry)) {
      problem(
        'functions',
        `function "${entry}" is deployed twice: ${at(f)} and ${functions.get(entry)?.address}`,
      );
      continue;
    }
    functions.set(entry, f);
  }
  for (const name of Object.keys(code.functions)) {
    const f = functions.get(name);
    if (!f) {
      problem(
        'functions',
        `function "${name}" (functions/registry.ts) has no google_cloudfunctions2_function with entry_point "${name}" in infra/`,
      );
      continue;
    }
    if (f.key !== name)
      problem('functions', `${at(f)}: name the instance after the function, "${name}"`);
    const build = block(f.attrs, 'build_config');
    const service = block(f.attrs, 'service_config');
    if (build?.['runtime'] !== 'nodejs22') {
      problem(
        'functions',
        `function "${name}": runtime ${JSON.stringify(build?.['runtime'])}, not "nodejs22"`,
      );
    }
    const timeout = service?.['timeout_seconds'];
    if (typeof timeout !== 'number' || timeout > MAX_TIMEOUT_SECONDS) {
      problem(
        'functions',
        `function "${name}": timeout_seconds ${JSON.stringify(timeout)}; set one, at most ${MAX_TIMEOUT_SECONDS}`,
      );
    }
    if (typeof service?.['available_memory'] !== 'string') {
      problem('functions', `function "${name}": set available_memory for what it does`);
    }
    const env = (service?.['environment_variables'] ?? {}) as Record<string, unknown>;
    if (env['LIFEBOAT_TOPIC_PREFIX'] !== prefix) {
      problem(
        'functions',
        `function "${name}": LIFEBOAT_TOPIC_PREFIX is ${JSON.stringify(env['LIFEBOAT_TOPIC_PREFIX'])}, but the topics are named with "${prefix}"`,
      );
    }
    if (typeof env['LIFEBOAT_STORE'] !== 'string' || !env['LIFEBOAT_STORE'].startsWith('gs://')) {
      problem(
        'functions',
        `function "${name}": LIFEBOAT_STORE must name the backup bucket (gs://...)`,
      );
    }
  }

  // Service accounts: one of its own per function.
  const accounts = new Map<string, string>();
  for (const [name, f] of functions) {
    const ref = refsIn(block(f.attrs, 'service_config')?.['service_account_email']).find(
      (r) => r.resource.startsWith('google_service_account.') && r.path === '.email',
    );
    const sa = resolve(ref);
    if (!sa) {
      problem(
        'iam',
        `function "${name}" has no service account of its own (service_config.service_account_email), so it would run as the default compute account`,
      );
      continue;
    }
    const other = [...accounts].find(([, address]) => address === sa.address);
    if (other)
      problem(
        'iam',
        `functions "${other[0]}" and "${name}" share the service account ${sa.address}`,
      );
    accounts.set(name, sa.address);
  }

  const grants: Grant[] = model.instances
    .filter((i) => /_iam_(member|binding)$/.test(i.type))
    .map((binding) => {
      const roleRefs = refsIn(binding.attrs['role']);
      const customRole = roleRefs
        .map(resolve)
        .find((r) => r?.type === 'google_project_iam_custom_role');
      const others = Object.entries(binding.attrs)
        .filter(([k]) => !['role', 'member', 'members', 'condition'].includes(k))
        .flatMap(([, v]) => refsIn(v));
      return {
        binding,
        role: roleRefs.length === 0 ? String(binding.attrs['role']) : undefined,
        customRole,
        members: refsIn([binding.attrs['member'], binding.attrs['members']]),
        target: others[0],
      };
    });
  const grantsTo = (address: string): Grant[] =>
    grants.filter((g) => g.members.some((m) => m.address === address));

  // Custom roles: each function's own, exactly its permissions; nothing broad.
  for (const [name, account] of accounts) {
    const mine = grantsTo(account);
    const custom = mine.filter((g) => g.customRole);
    if (custom.length === 0) {
      problem(
        'iam',
        `function "${name}": its service account holds no custom role listing the permissions it uses`,
      );
    }
    for (const g of custom) {
      const role = g.customRole as Instance;
      const permissions = role.attrs['permissions'];
      if (!Array.isArray(permissions) || permissions.length === 0) {
        problem('iam', `function "${name}": custom role ${at(role)} lists no permissions`);
        continue;
      }
      for (const p of permissions as string[]) {
        if (p.includes('*'))
          problem('iam', `function "${name}": custom role ${at(role)} has the wildcard "${p}"`);
        if (p.startsWith('pubsub.')) {
          problem(
            'iam',
            `function "${name}": custom role ${at(role)} has "${p}"; publishing is granted per topic, not in a role`,
          );
        }
      }
      const sharedWith = grants
        .filter((o) => o.customRole === role)
        .flatMap((o) => o.members)
        .filter((m) => m.address !== account);
      if (sharedWith.length > 0) {
        problem(
          'iam',
          `function "${name}": its custom role ${role.address} is also granted to ${sharedWith.map((m) => m.address).join(', ')}`,
        );
      }
    }
    for (const g of mine.filter((x) => !x.customRole)) {
      const allowed = ALLOWED_PREDEFINED[g.binding.type] ?? [];
      if (!g.role || !allowed.includes(g.role)) {
        problem(
          'iam',
          `function "${name}": its service account is granted ${g.role ?? '(unknown role)'} by ${at(g.binding)}; grant a custom role with exactly the permissions it uses`,
        );
      }
    }
  }

  // Confined writes: no unconditional object create or delete anywhere, and
  // the IAM conditions admit the function's own keys and refuse the others.
  for (const [name, spec] of Object.entries(code.confinedWrites)) {
    const account = accounts.get(name);
    const f = functions.get(name);
    if (!account || !f) continue; // reported above
    const store = storeOf(f, byAddress);
    if (!store) {
      problem(
        'iam',
        `function "${name}": LIFEBOAT_STORE does not name a bucket of infra/ (gs://BUCKET[/PREFIX])`,
      );
      continue;
    }
    const conditional: { binding: Instance; writes: string[]; expression: string }[] = [];
    for (const g of grantsTo(account)) {
      const permissions = g.customRole?.attrs['permissions'];
      const writes = (Array.isArray(permissions) ? (permissions as string[]) : []).filter((p) =>
        spec.permissions.includes(p),
      );
      if (writes.length === 0) continue;
      const expression = block(g.binding.attrs, 'condition')?.['expression'];
      if (g.binding.type !== 'google_storage_bucket_iam_member' || typeof expression !== 'string') {
        problem(
          'iam',
          `function "${name}": ${at(g.binding)} grants ${writes.join(', ')} without a condition, so it could delete or replace backups; grant ${writes.length > 1 ? 'them' : 'it'} on the bucket for its own objects only`,
        );
        continue;
      }
      conditional.push({ binding: g.binding, writes, expression });
    }
    const objectName = (key: string): string =>
      `projects/_/buckets/${store.bucket}/objects/${store.prefix}${key}`;
    const allowed = (permission: string, key: string): boolean =>
      conditional.some((c) => {
        if (!c.writes.includes(permission)) return false;
        try {
          return evaluateCondition(c.expression, {
            name: objectName(key),
            type: 'storage.googleapis.com/Object',
          });
        } catch (error) {
          problem(
            'iam',
            `function "${name}": ${at(c.binding)}: cannot read its condition (${(error as Error).message})`,
          );
          return false;
        }
      });
    for (const permission of spec.permissions) {
      for (const key of spec.writes) {
        if (!allowed(permission, key)) {
          problem(
            'iam',
            `function "${name}" writes ${key} but lacks ${permission} on it (${objectName(key)})`,
          );
        }
      }
      for (const key of spec.protects) {
        if (allowed(permission, key)) {
          problem(
            'iam',
            `function "${name}" has ${permission} on ${key} (${objectName(key)}), which is not its own`,
          );
        }
      }
    }
  }

  // The KMS key, when there is one: LIFEBOAT_KMS_KEY and use of the key for
  // exactly the functions that load the data key (without it they would
  // write unsealed catalogs, which restores refuse, or fail to open Secrets).
  if (ofType('google_kms_crypto_key').length > 0) {
    for (const [name, f] of functions) {
      const env = (block(f.attrs, 'service_config')?.['environment_variables'] ?? {}) as Record<
        string,
        unknown
      >;
      const account = accounts.get(name);
      const hasKey = typeof env['LIFEBOAT_KMS_KEY'] === 'string';
      const mayUse =
        account !== undefined &&
        grantsTo(account).some((g) => g.binding.type === 'google_kms_crypto_key_iam_member');
      const uses = code.dataKeyFunctions.includes(name);
      if (uses && (!hasKey || !mayUse)) {
        problem(
          'iam',
          `function "${name}" loads the data key, but ${hasKey ? 'may not use' : 'is not given (LIFEBOAT_KMS_KEY)'} the KMS key that wraps it`,
        );
      }
      if (!uses && (hasKey || mayUse)) {
        problem(
          'iam',
          `function "${name}" never loads the data key, but ${hasKey ? 'is given LIFEBOAT_KMS_KEY' : 'may use the KMS key'}`,
        );
      }
    }
  }

  // Publishing: on exactly the topics each function publishes to.
  for (const [name, account] of accounts) {
    const spec = code.functions[name];
    if (!spec) continue;
    const mayPublish = new Set<string>();
    for (const g of grantsTo(account)) {
      if (
        g.binding.type !== 'google_pubsub_topic_iam_member' ||
        g.role !== 'roles/pubsub.publisher'
      )
        continue;
      const t = g.target ? topics.get(g.target.address) : undefined;
      if (!t || t.dead) {
        problem(
          'publishing',
          `function "${name}" may publish to something other than a topic of the flow (${at(g.binding)})`,
        );
        continue;
      }
      mayPublish.add(t.role);
      if (!spec.publishes.includes(t.role)) {
        problem(
          'publishing',
          `function "${name}" may publish to "${t.role}" (${at(g.binding)}), which functions/registry.ts does not list`,
        );
      }
    }
    for (const role of spec.publishes) {
      if (!mayPublish.has(role)) {
        problem(
          'publishing',
          `function "${name}" publishes to "${role}" (functions/registry.ts), but its service account may not publish to topic "${prefix}${role}"`,
        );
      }
    }
  }

  // Triggers: one per function, on the topic the registry names, dead-lettered.
  for (const [name, f] of functions) {
    const spec = code.functions[name];
    if (!spec) continue;
    const found: { topic: TopicInfo | undefined; via: string }[] = [];
    const eventTrigger = block(f.attrs, 'event_trigger');
    if (eventTrigger) {
      found.push({
        topic: topicOf(eventTrigger['pubsub_topic']),
        via: `${f.address}.event_trigger`,
      });
      if (eventTrigger['retry_policy'] !== 'RETRY_POLICY_RETRY') {
        problem(
          'triggers',
          `function "${name}": its event_trigger must use RETRY_POLICY_RETRY, or a transient failure loses the message`,
        );
      }
    }
    for (const s of subscriptions) {
      const push = block(s.attrs, 'push_config');
      if (!push || !refsIn(push['push_endpoint']).some((r) => r.address === f.address)) continue;
      const topic = topicOf(s.attrs['topic']);
      found.push({ topic, via: s.address });
      const dl = topicOf(block(s.attrs, 'dead_letter_policy')?.['dead_letter_topic']);
      if (!dl || !dl.dead || dl.role !== topic?.role) {
        problem(
          'triggers',
          `function "${name}": ${at(s)} must dead-letter to the dead-letter topic of "${topic?.role}"`,
        );
      }
      if (!block(push, 'oidc_token')) {
        problem(
          'triggers',
          `function "${name}": ${at(s)} pushes without an OIDC token, so the function would have to allow unauthenticated calls`,
        );
      }
      const ack = s.attrs['ack_deadline_seconds'];
      const timeout = block(f.attrs, 'service_config')?.['timeout_seconds'];
      if (typeof ack !== 'number' || typeof timeout !== 'number' || ack < timeout) {
        problem(
          'triggers',
          `function "${name}": ${at(s)} has ack_deadline_seconds ${JSON.stringify(ack)}, shorter than the function's timeout, so slow successes would be redelivered`,
        );
      }
    }
    if (found.length === 0) {
      problem(
        'triggers',
        `function "${name}" is triggered by nothing: no push subscription to it and no event_trigger`,
      );
    } else if (found.length > 1) {
      problem(
        'triggers',
        `function "${name}" is triggered ${found.length} times (${found.map((x) => x.via).join(', ')}), so it would run twice per message`,
      );
    }
    for (const { topic, via } of found) {
      if (!topic || topic.dead || topic.role !== spec.trigger) {
        problem(
          'triggers',
          `function "${name}" is triggered by ${topic ? `"${topic.role}"${topic.dead ? ' (dead-letter)' : ''}` : 'no topic of the flow'} through ${via}, but functions/registry.ts says "${spec.trigger}"`,
        );
      }
    }
  }
  const functionAddresses = new Set([...functions.values()].map((f) => f.address));
  for (const s of subscriptions) {
    const push = block(s.attrs, 'push_config');
    if (push && !refsIn(push['push_endpoint']).some((r) => functionAddresses.has(r.address))) {
      problem(
        'triggers',
        `${at(s)} pushes to something that is not a function of functions/registry.ts`,
      );
    }
  }

  // Entry points: a topic that triggers a function but that no function
  // publishes to must be fed from outside: a scheduler job or the log sink.
  const published = new Set(Object.values(code.functions).flatMap((f) => f.publishes));
  const fedFromOutside = new Set<string>();
  const tickPolicies: { job: Instance; name: string; canonical: string }[] = [];
  for (const job of ofType('google_cloud_scheduler_job')) {
    const target = block(job.attrs, 'pubsub_target');
    const topic = topicOf(target?.['topic_name']);
    if (!topic || topic.dead) {
      problem('entry points', `${at(job)} publishes to no topic of the flow`);
      continue;
    }
    fedFromOutside.add(topic.role);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(String(target?.['data']), 'base64').toString('utf8'));
    } catch {
      problem('entry points', `${at(job)}: its message is not base64-encoded JSON`);
      continue;
    }
    for (const p of code.validateTick(topic.role, body))
      problem('entry points', `${at(job)}: ${p}`);
    const carried = code.tickPolicy(topic.role, body);
    if (carried) tickPolicies.push({ job, ...carried });
  }
  for (const sink of [
    ...ofType('google_logging_project_sink'),
    ...ofType('google_logging_folder_sink'),
    ...ofType('google_logging_organization_sink'),
  ]) {
    const topic = topicOf(sink.attrs['destination']);
    if (!topic || topic.dead) {
      problem('entry points', `${at(sink)} forwards to no topic of the flow`);
      continue;
    }
    fedFromOutside.add(topic.role);
    const filter = String(sink.attrs['filter'] ?? '');
    const methods = [...filter.matchAll(/"(google\.container\.[^"]+)"/g)].map((m) => m[1] ?? '');
    const missing = code.watchedMethods.filter((m) => !methods.includes(m));
    const extra = methods.filter((m) => !code.watchedMethods.includes(m));
    if (missing.length > 0 || extra.length > 0) {
      problem(
        'entry points',
        `${at(sink)}: its filter's methods [${methods.join(', ')}] differ from WatchedMethods [${code.watchedMethods.join(', ')}]`,
      );
    }
    if (!filter.includes('cloudaudit.googleapis.com%2Factivity')) {
      problem('entry points', `${at(sink)}: its filter must select the Admin Activity audit log`);
    }
    const writer = grants.some(
      (g) =>
        g.role === 'roles/pubsub.publisher' &&
        g.members.some((m) => m.address === sink.address && m.path === '.writer_identity') &&
        (g.target ? topics.get(g.target.address) : undefined)?.role === topic.role,
    );
    if (!writer) {
      problem(
        'entry points',
        `${at(sink)}: its writer identity may not publish to "${prefix}${topic.role}"`,
      );
    }
  }
  for (const [name, spec] of Object.entries(code.functions)) {
    if (!published.has(spec.trigger) && !fedFromOutside.has(spec.trigger)) {
      problem(
        'entry points',
        `topic "${spec.trigger}" triggers function "${name}", but no function, Cloud Scheduler job or log sink publishes to it`,
      );
    }
  }

  // Deployment: every function reads the same LIFEBOAT_DEPLOYMENT, which the
  // code accepts, and every scheduled policy is exactly the deployed policy
  // of its name (the functions refuse any other).
  const rendered = new Map<string, string[]>();
  for (const [name, f] of functions) {
    const env = (block(f.attrs, 'service_config')?.['environment_variables'] ?? {}) as Record<
      string,
      unknown
    >;
    const text = env['LIFEBOAT_DEPLOYMENT'];
    if (typeof text !== 'string') {
      problem(
        'deployment',
        `function "${name}": no LIFEBOAT_DEPLOYMENT, so it would refuse every policy and restore plan`,
      );
      continue;
    }
    rendered.set(text, [...(rendered.get(text) ?? []), name]);
  }
  if (rendered.size > 1) {
    problem(
      'deployment',
      `the functions read ${rendered.size} different LIFEBOAT_DEPLOYMENT values (${[...rendered.values()].map((names) => names.join(', ')).join(' | ')}); render it once`,
    );
  }
  const [text] = [...rendered.keys()];
  if (text !== undefined) {
    const deployed = code.readDeployment(text);
    for (const p of deployed.problems) problem('deployment', `LIFEBOAT_DEPLOYMENT: ${p}`);
    const scheduled = new Set<string>();
    for (const { job, name, canonical } of tickPolicies) {
      scheduled.add(name);
      const mine = deployed.policies[name];
      if (mine === undefined) {
        problem(
          'deployment',
          `${at(job)} schedules policy "${name}", which LIFEBOAT_DEPLOYMENT does not deploy`,
        );
      } else if (mine !== canonical) {
        problem(
          'deployment',
          `${at(job)} carries policy "${name}" as ${canonical}, but LIFEBOAT_DEPLOYMENT deploys ${mine}; the functions would refuse it`,
        );
      }
    }
    for (const name of Object.keys(deployed.policies)) {
      if (!scheduled.has(name)) {
        problem('deployment', `deployed policy "${name}" has no scheduler job publishing it`);
      }
    }
  }
  checkHttpFunctions(model, code, httpFunctions, accounts, grants, (m) =>
    problem('http functions', m),
  );
  return problems;
}

/** Predefined roles that only read objects, on a bucket. */
const READ_ONLY_BUCKET_ROLES = ['roles/storage.objectViewer'];
/** The permissions a custom role may hold on the bucket and still only read. */
const READ_ONLY_OBJECT_PERMISSIONS = ['storage.objects.get', 'storage.objects.list'];
/** Members that would make a function public. */
const PUBLIC_MEMBERS = ['allUsers', 'allAuthenticatedUsers'];
/** Roles that let a member call a function. */
const INVOKER_ROLES = ['roles/run.invoker', 'roles/cloudfunctions.invoker'];

/**
 * HTTP functions: each deployed once, over the backup bucket, as its own
 * service account that may only read the bucket (and decrypt with the KMS
 * key, when there is one); triggered by no topic; and invoked only by the
 * principals of var.ui_invokers, never by the public. No binding anywhere
 * in infra/ may name allUsers or allAuthenticatedUsers.
 */
function checkHttpFunctions(
  model: InfraModel,
  code: CodeFlow,
  deployed: ReadonlyMap<string, Instance[]>,
  pubsubAccounts: ReadonlyMap<string, string>,
  grants: readonly Grant[],
  problem: (message: string) => void,
): void {
  const byAddress = new Map(model.instances.map((i) => [i.address, i]));
  const at = (i: Instance): string => `${i.address} (${i.where})`;
  for (const g of grants) {
    const open = [g.binding.attrs['member'], g.binding.attrs['members']]
      .flat()
      .filter((m): m is string => typeof m === 'string' && PUBLIC_MEMBERS.includes(m));
    if (open.length > 0) {
      problem(`${at(g.binding)} grants ${g.role ?? 'a role'} to ${open.join(', ')}: public access`);
    }
  }
  const kmsKeys = model.instances.filter((i) => i.type === 'google_kms_crypto_key');
  const invokers = (model.vars['ui_invokers'] ?? []) as string[];
  for (const name of code.httpFunctions) {
    const found = deployed.get(name) ?? [];
    if (found.length !== 1) {
      problem(
        `HTTP function "${name}" (functions/registry.ts) is deployed ${found.length} times in infra/; deploy it once`,
      );
      continue;
    }
    const f = found[0] as Instance;
    const build = block(f.attrs, 'build_config');
    const service = block(f.attrs, 'service_config');
    if (build?.['runtime'] !== 'nodejs22') {
      problem(
        `HTTP function "${name}": runtime ${JSON.stringify(build?.['runtime'])}, not "nodejs22"`,
      );
    }
    if (block(f.attrs, 'event_trigger')) {
      problem(
        `HTTP function "${name}": ${at(f)} has an event_trigger; it is called over HTTP only`,
      );
    }
    const store = storeOf(f, byAddress);
    if (!store) {
      problem(`HTTP function "${name}": LIFEBOAT_STORE does not name a bucket of infra/`);
    }
    const env = (service?.['environment_variables'] ?? {}) as Record<string, unknown>;

    const saRef = refsIn(service?.['service_account_email']).find(
      (r) => r.resource.startsWith('google_service_account.') && r.path === '.email',
    );
    const sa = saRef ? byAddress.get(saRef.address) : undefined;
    if (!sa) {
      problem(
        `HTTP function "${name}" has no service account of its own (service_config.service_account_email)`,
      );
    } else {
      const sharer = [...pubsubAccounts].find(([, address]) => address === sa.address);
      if (sharer)
        problem(`HTTP function "${name}" shares ${sa.address} with function "${sharer[0]}"`);
      let reads = false;
      let decrypts = false;
      for (const g of grants.filter((x) => x.members.some((m) => m.address === sa.address))) {
        if (g.binding.type === 'google_storage_bucket_iam_member') {
          const bucket = g.target ? byAddress.get(g.target.address) : undefined;
          const permissions = g.customRole?.attrs['permissions'];
          const readOnly = g.customRole
            ? Array.isArray(permissions) &&
              permissions.every((p) => READ_ONLY_OBJECT_PERMISSIONS.includes(String(p)))
            : READ_ONLY_BUCKET_ROLES.includes(g.role ?? '');
          if (!readOnly) {
            problem(
              `HTTP function "${name}": ${at(g.binding)} grants ${g.role ?? g.customRole?.address ?? 'a role'} on the bucket, which does more than read objects`,
            );
          } else if (block(g.binding.attrs, 'condition')) {
            problem(
              `HTTP function "${name}": ${at(g.binding)} reads under a condition; it reads the whole store`,
            );
          } else if (store && bucket?.attrs['name'] !== store.bucket) {
            problem(
              `HTTP function "${name}": ${at(g.binding)} is on another bucket than its store`,
            );
          } else {
            reads = true;
          }
        } else if (
          g.binding.type === 'google_kms_crypto_key_iam_member' &&
          g.role === 'roles/cloudkms.cryptoKeyDecrypter'
        ) {
          decrypts = true;
        } else {
          problem(
            `HTTP function "${name}": its service account is granted ${g.role ?? g.customRole?.address ?? '(unknown role)'} by ${at(g.binding)}; it may only read the bucket (and decrypt with the KMS key)`,
          );
        }
      }
      if (!reads) {
        problem(`HTTP function "${name}": its service account may not read the backup bucket`);
      }
      const hasKey = typeof env['LIFEBOAT_KMS_KEY'] === 'string';
      if (kmsKeys.length > 0 && !(hasKey && decrypts)) {
        problem(
          `HTTP function "${name}": the KMS key exists, but it ${hasKey ? 'may not decrypt with it' : 'is not given LIFEBOAT_KMS_KEY'}, so Secrets' keys could not be shown`,
        );
      }
      if (kmsKeys.length === 0 && (hasKey || decrypts)) {
        problem(`HTTP function "${name}": there is no KMS key, yet it is given one`);
      }
    }

    // Invokers: bindings on the function or its Cloud Run service, exactly var.ui_invokers.
    const invoking = grants.filter((g) =>
      Object.entries(g.binding.attrs)
        .filter(([k]) => !['role', 'member', 'members', 'condition'].includes(k))
        .some(([, v]) => refsIn(v).some((r) => r.address === f.address)),
    );
    const members: string[] = [];
    for (const g of invoking) {
      if (!g.role || !INVOKER_ROLES.includes(g.role)) {
        problem(
          `HTTP function "${name}": ${at(g.binding)} grants ${g.role ?? 'a custom role'} on it; grant only the invoker role`,
        );
      }
      members.push(
        ...[g.binding.attrs['member'], g.binding.attrs['members']]
          .flat()
          .filter((m): m is string => typeof m === 'string'),
      );
    }
    const extra = members.filter((m) => !invokers.includes(m));
    const missing = invokers.filter((m) => !members.includes(m));
    if (extra.length > 0 || missing.length > 0) {
      problem(
        `HTTP function "${name}" may be invoked by [${[...new Set(members)].sort().join(', ')}], but var.ui_invokers lists [${[...invokers].sort().join(', ')}]`,
      );
    }
  }
}

function topicRoleOf(
  name: string,
  prefix: string,
  roles: readonly string[],
): TopicInfo | undefined {
  for (const role of roles) {
    if (name === `${prefix}${role}`) return { role, dead: false };
    if (name === `${prefix}${role}-dead-letter`) return { role, dead: true };
  }
  return undefined;
}

/** The bucket and key prefix of a function's LIFEBOAT_STORE, its bucket resolved to its name. */
function storeOf(
  f: Instance,
  byAddress: ReadonlyMap<string, Instance>,
): { bucket: string; prefix: string } | undefined {
  const env = block(f.attrs, 'service_config')?.['environment_variables'] as
    Record<string, unknown> | undefined;
  const url = env?.['LIFEBOAT_STORE'];
  if (typeof url !== 'string') return undefined;
  let unresolved = false;
  const resolved = url.replace(
    /@ref:(google_storage_bucket\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?)\.name/g,
    (_, address: string) => {
      const name = byAddress.get(address)?.attrs['name'];
      if (typeof name !== 'string') unresolved = true;
      return String(name);
    },
  );
  const m = /^gs:\/\/([a-z0-9][-a-z0-9_.]*[a-z0-9])(?:\/(.*))?$/.exec(resolved);
  if (unresolved || !m) return undefined;
  const path = (m[2] ?? '').replace(/\/+$/, '');
  return { bucket: m[1] ?? '', prefix: path ? `${path}/` : '' };
}

/** The first (only) instance of a nested block. */
function block(
  attrs: Record<string, unknown> | undefined,
  name: string,
): Record<string, unknown> | undefined {
  const list = attrs?.[name];
  if (!Array.isArray(list)) return undefined;
  const first: unknown = list[0];
  return typeof first === 'object' && first !== null
    ? (first as Record<string, unknown>)
    : undefined;
}
