import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Functions, HttpFunctions } from '../../../functions/registry.js';
import { TopicRoles } from '../../../shared/bus/topics.js';
import { canonicalJson } from '../../../shared/catalog/canonical.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { DeployedConfiguration, Deployment } from '../../../shared/config/deployment.js';
import { WatchedMethods } from '../../../shared/messages/cluster-event.js';
import { parseMessage } from '../../../shared/messages/index.js';
import { RestorePlan } from '../../../shared/messages/restore.js';
import { DrillPolicy } from '../../../shared/messages/drill.js';
import { DRILL_FAILED_LOG } from '../../../functions/drill-verdict.js';
import { validate } from '../../../shared/validate.js';
import { checkInfra, Checks, type Check, type CodeFlow, type Problem } from './infra-check.js';
import { loadInfra, type InfraModel } from './infra-model.js';
import { infraDir, infraTools, repoRoot, run, tofuEnv, type InfraTools } from './tools.js';

/** The message each scheduler-fed topic carries. */
const TICKS: Record<string, 'ScheduleTick' | 'RetentionTick' | 'DrillJob'> = {
  schedule: 'ScheduleTick',
  retention: 'RetentionTick',
  drill: 'DrillJob',
};

function validateTick(role: string, body: unknown): string[] {
  const kind = TICKS[role];
  if (!kind) return [`a scheduler job publishes to "${role}", which carries no tick`];
  try {
    parseMessage(kind, structuredClone(body));
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

/** LIFEBOAT_DEPLOYMENT as the functions read it: validated (defaults filled), then loaded. */
function readDeployment(text: string): { problems: string[]; policies: Record<string, string> } {
  try {
    const deployed = new DeployedConfiguration(
      validate(Deployment, JSON.parse(text), 'LIFEBOAT_DEPLOYMENT'),
    );
    return {
      problems: [],
      policies: Object.fromEntries(
        deployed.policyNames().map((name) => [name, canonicalJson(deployed.policy(name))]),
      ),
    };
  } catch (error) {
    return { problems: [(error as Error).message], policies: {} };
  }
}

function tickPolicy(role: string, body: unknown): { name: string; canonical: string } | undefined {
  if (TICKS[role] !== 'ScheduleTick') return undefined;
  try {
    const { policy } = parseMessage('ScheduleTick', structuredClone(body));
    return { name: policy.name, canonical: canonicalJson(policy) };
  } catch {
    return undefined;
  }
}

const cluster = { project: 'prod-project', location: 'europe-west1', name: 'prod' };
const backupId = 'nightly-20260101-0200';
const restoreId = 'restore-1';
/** Every key of a backup, as Layout builds it. */
const backupKeys = (id: string): string[] => [
  Layout.catalog(cluster, id),
  Layout.seal(cluster, id),
  Layout.lock(cluster, id),
  Layout.expiring(cluster, id),
  Layout.announced(cluster, id),
  Layout.plan(cluster, id),
  Layout.part(cluster, id, 'manifests/deployments.apps/00000'),
  Layout.part(cluster, id, 'volumes/pvc-1'),
];

/**
 * The restore function writes its claim, progress and report and the lease
 * on the backup it reads (shared/restore/run-restore.ts,
 * shared/catalog/backup-lease.ts), and must touch nothing else: no key of
 * any backup (one named "leases" included), no pack, data key or marker.
 */
const restoreWrites = {
  permissions: ['storage.objects.create', 'storage.objects.delete'],
  writes: [
    Layout.restoreProgress(restoreId),
    Layout.report(restoreId),
    Layout.lease(cluster, backupId, restoreId),
  ],
  protects: [
    ...backupKeys(backupId),
    ...backupKeys('leases'),
    Layout.pack('ab'.padEnd(64, '0')),
    Layout.dataKey('dek-0123456789abcdef'),
    Layout.storeMarker(),
    Layout.deletedMarker(cluster),
    Layout.clusterBackups(cluster),
    'restores.json',
    'restores-other/report.json',
    `backups/${Layout.clusterKey(cluster)}/${backupId}/leasesx/${restoreId}.json`,
  ],
};

/**
 * The drill function writes what its restore writes, its report beside the
 * backup it drilled and its index entry (shared/drill/drill-store.ts), and
 * must touch nothing else of a backup.
 */
const drillWrites = {
  permissions: restoreWrites.permissions,
  writes: [
    ...restoreWrites.writes,
    Layout.drillReport(cluster, backupId, 'd0123456789a'),
    Layout.drillIndex('d0123456789a'),
  ],
  protects: [
    ...restoreWrites.protects,
    ...backupKeys('drills'),
    `backups/${Layout.clusterKey(cluster)}/${backupId}/drillsx/d1.json`,
    'drills.json',
  ],
};

/** The functions whose module (functions/*.ts) loads the data key: runtime.sealer(). */
function dataKeyFunctions(): string[] {
  const dir = join(repoRoot, 'functions');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .filter((src) => /\bruntime\.sealer\(\)/.test(src))
    .map((src) => /\bregister\(\s*'([A-Za-z]+)'/.exec(src)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

const code: CodeFlow = {
  functions: Functions,
  topicRoles: TopicRoles,
  watchedMethods: WatchedMethods,
  validateTick,
  readDeployment,
  tickPolicy,
  confinedWrites: { restore: restoreWrites, drill: drillWrites },
  dataKeyFunctions: dataKeyFunctions(),
  httpFunctions: HttpFunctions,
};

/**
 * Inputs to evaluate infra/ with: two backup policies (one minimal, one
 * setting every field) so that their scheduler jobs exist, two restore
 * plans (one minimal, one setting every field), and the KMS key on so that
 * its bindings are checked too.
 */
const VARS = {
  project: 'lifeboat-test',
  region: 'europe-west1',
  kms_enabled: true,
  ui_invokers: ['group:sre@example.com', 'user:alice@example.com'],
  backup_policies: {
    nightly: { schedule: '0 2 * * *', projects: ['prod-project'] },
    critical: {
      schedule: '0 * * * *',
      time_zone: 'Europe/Paris',
      projects: ['prod-project', 'shared-project'],
      locations: ['europe-west1'],
      cluster_names: ['prod'],
      cluster_labels: { tier: 'critical' },
      filters: { exclude_namespaces: ['kube-system'], label_selector: 'backup!=skip' },
      snapshot_volumes: false,
      csi_snapshot_classes: { 'pd.csi.storage.gke.io': 'pd-snapshots' },
      snapshot_storage_locations: ['eu'],
      snapshot_type: 'ARCHIVE',
      snapshot_timeout_seconds: 300,
      ttl_days: 14,
      keep_last: 24,
      delete_lock_days: 7,
      standby_cluster: { project: 'dr-project', location: 'europe-west4', name: 'standby' },
      restore_on_recreate: true,
    },
  },
  drill_policies: {
    weekly: {
      schedule: '0 6 * * 1',
      projects: ['prod-project'],
      drill_cluster: { project: 'dr-project', location: 'europe-west4', name: 'drills' },
    },
    'full-drill': {
      schedule: '0 5 1 * *',
      time_zone: 'Europe/Paris',
      projects: ['prod-project', 'shared-project'],
      locations: ['europe-west1'],
      cluster_names: ['prod-*'],
      cluster_labels: { tier: 'critical' },
      backup_policies: ['critical'],
      drill_cluster: { project: 'dr-project', location: 'europe-west4', name: 'drills' },
      namespaces: ['app-*'],
      exclude_namespaces: ['app-debug'],
      restore_volumes: false,
      timeout_seconds: 900,
      pass: { objects_equal_catalog: true, volumes_bound_to_restored_disks: false },
    },
  },
  restore_plans: {
    recreated: {
      source_clusters: [{ project: 'prod-project' }],
      restore_into_source: true,
    },
    'dr-copy': {
      description: 'Production backups into the DR project, renamed and resized',
      source_clusters: [
        { project: 'prod-project', location: 'europe-west1', name: 'prod-*' },
        { project: 'shared-project' },
      ],
      target_clusters: [{ project: 'dr-project', location: 'europe-west4', name: 'dr' }],
      restore_into_source: false,
      options: {
        include_namespaces: ['app-*'],
        exclude_namespaces: ['app-debug'],
        include_resources: ['deployments.apps', 'services', 'persistentvolumeclaims'],
        exclude_resources: ['events'],
        namespace_mapping: { 'app-prod': 'app-dr' },
        conflict_policy: 'replace',
        volume_data_policy: 'no-volume-data',
        zone_mapping: { 'europe-west1-b': 'europe-west4-a' },
        target_project: 'dr-project',
        transformations: [
          {
            description: 'one replica in DR',
            resources: ['deployments.apps'],
            namespaces: ['app-dr'],
            names: ['web'],
            patch: [
              { op: 'replace', path: '/spec/replicas', value_json: '1' },
              { op: 'add', path: '/metadata/labels/site', value: 'dr' },
              { op: 'add', path: '/metadata/annotations', value_json: '{"copied":"yes"}' },
              { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/origin' },
              { op: 'remove', path: '/spec/template/spec/nodeSelector' },
            ],
          },
          { patch: [{ op: 'add', path: '/metadata/labels/restored', value_json: 'true' }] },
        ],
        restore_owned_objects: true,
        dry_run: true,
        parallelism: 4,
      },
    },
  },
};

/** The LIFEBOAT_DEPLOYMENT one function of a model reads, parsed. */
function deploymentOf(model: InfraModel, fn = 'restore'): Record<string, unknown> {
  const f = model.instances.find(
    (i) => i.type === 'google_cloudfunctions2_function' && i.key === fn,
  );
  assert.ok(f, `no function ${fn}`);
  const service = (f.attrs['service_config'] as Record<string, unknown>[])[0];
  const env = service?.['environment_variables'] as Record<string, unknown> | undefined;
  return JSON.parse(String(env?.['LIFEBOAT_DEPLOYMENT'])) as Record<string, unknown>;
}

const TITLES: Record<Check, string> = {
  topics:
    'has a topic and a dead-letter topic (with a subscription keeping dead letters) for every topic role, and no other topic',
  functions:
    'deploys one nodejs22 function per registered function, its entry point the registered name, and no other',
  triggers:
    'triggers each function once, from the topic the registry names, dead-lettered to that topic’s dead-letter topic',
  iam: 'runs each function as its own service account with its own custom role, and nothing broader',
  publishing: 'lets each function publish to exactly the topics it publishes to, topic by topic',
  'entry points':
    'feeds the topics no function publishes to from scheduler jobs and the log sink, with valid messages',
  deployment:
    'gives every function the same LIFEBOAT_DEPLOYMENT, valid for the code, whose policies are exactly those the scheduler ticks carry',
  'http functions':
    'deploys each HTTP function (the UI) as its own account that may only read the bucket, invoked only by ui_invokers, and nothing public',
};

const messagesOf = (problems: Problem[], check?: Check): string[] =>
  problems.filter((p) => !check || p.check === check).map((p) => p.message);

describe('infra/ (Terraform)', function () {
  let tools: InfraTools;

  before(function () {
    // The first run builds OpenTofu from the Go module proxy (minutes).
    this.timeout(30 * 60_000);
    tools = infraTools();
  });

  it('is formatted as `tofu fmt` formats it', function () {
    const data = mkdtempSync(join(tmpdir(), 'lifeboat-tofu-'));
    try {
      const out = run(tools.tofu, ['fmt', '-check', '-recursive', '-diff', infraDir], {
        env: tofuEnv(data),
      });
      assert.equal(
        out.status,
        0,
        `tofu fmt -check -recursive infra/ failed; run \`tofu fmt -recursive infra/\`:\n${out.stdout}${out.stderr}`,
      );
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  describe('deploys exactly the flow of the code', function () {
    this.timeout(60_000);
    let model: InfraModel;
    let problems: Problem[];

    before(function () {
      model = loadInfra(infraDir, tools, { vars: VARS });
      problems = checkInfra(model, code);
    });

    for (const check of Checks) {
      it(TITLES[check], function () {
        assert.deepEqual(messagesOf(problems, check), []);
      });
    }

    it('accepts terraform.tfvars.example, whose every backup policy makes a valid ScheduleTick', function () {
      const example = loadInfra(infraDir, tools, {
        vars: { project: VARS.project },
        varFiles: [join(infraDir, 'terraform.tfvars.example')],
      });
      const jobs = example.instances.filter((i) => i.type === 'google_cloud_scheduler_job');
      assert.ok(jobs.length > 2, 'the example should define backup policies');
      assert.ok(
        (deploymentOf(example)['restorePlans'] as unknown[]).length > 0,
        'the example should define a restore plan',
      );
      assert.deepEqual(messagesOf(checkInfra(example, code)), []);
    });

    it('deploys nothing (and the code accepts it) when no policy or plan is set', function () {
      const bare = loadInfra(infraDir, tools, { vars: { project: VARS.project } });
      assert.deepEqual(deploymentOf(bare), {
        backupPolicies: [],
        restorePlans: [],
        drillPolicies: [],
      });
      assert.deepEqual(messagesOf(checkInfra(bare, code), 'deployment'), []);
    });

    it('renders each restore plan, field for field and with the schema’s defaults, in LIFEBOAT_DEPLOYMENT', function () {
      const deployment = validate(Deployment, deploymentOf(model), 'LIFEBOAT_DEPLOYMENT');
      const plan = (name: string): RestorePlan | undefined =>
        deployment.restorePlans.find((p) => p.name === name);
      const expected = (value: Record<string, unknown>): RestorePlan =>
        validate(RestorePlan, value, 'expected plan');
      assert.deepEqual(
        deployment.restorePlans.map((p) => p.name),
        ['dr-copy', 'recreated'],
        'exactly the declared plans, none of those a policy implies',
      );
      assert.deepEqual(
        plan('recreated'),
        expected({
          name: 'recreated',
          sourceClusters: [{ project: 'prod-project' }],
          restoreIntoSource: true,
          options: {},
        }),
      );
      assert.deepEqual(
        plan('dr-copy'),
        expected({
          name: 'dr-copy',
          description: 'Production backups into the DR project, renamed and resized',
          sourceClusters: [
            { project: 'prod-project', location: 'europe-west1', name: 'prod-*' },
            { project: 'shared-project' },
          ],
          targetClusters: [{ project: 'dr-project', location: 'europe-west4', name: 'dr' }],
          restoreIntoSource: false,
          options: {
            includeNamespaces: ['app-*'],
            excludeNamespaces: ['app-debug'],
            includeResources: ['deployments.apps', 'services', 'persistentvolumeclaims'],
            excludeResources: ['events'],
            namespaceMapping: { 'app-prod': 'app-dr' },
            conflictPolicy: 'replace',
            volumeDataPolicy: 'no-volume-data',
            zoneMapping: { 'europe-west1-b': 'europe-west4-a' },
            targetProject: 'dr-project',
            transformations: [
              {
                description: 'one replica in DR',
                resources: ['deployments.apps'],
                namespaces: ['app-dr'],
                names: ['web'],
                patch: [
                  { op: 'replace', path: '/spec/replicas', value: 1 },
                  { op: 'add', path: '/metadata/labels/site', value: 'dr' },
                  { op: 'add', path: '/metadata/annotations', value: { copied: 'yes' } },
                  { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/origin' },
                  { op: 'remove', path: '/spec/template/spec/nodeSelector' },
                ],
              },
              { patch: [{ op: 'add', path: '/metadata/labels/restored', value: true }] },
            ],
            restoreOwnedObjects: true,
            dryRun: true,
            parallelism: 4,
          },
        }),
      );
      // The code adds the plans the policies imply, and authorises by the declared ones.
      const deployed = new DeployedConfiguration(deployment);
      assert.deepEqual(deployed.planNames(), [
        'dr-copy',
        'recreate:critical',
        'recreated',
        'standby:critical',
      ]);
      const authorised = deployed.authoriseRestore(
        {
          plan: 'dr-copy',
          target: { project: 'dr-project', location: 'europe-west4', name: 'dr' },
        },
        { project: 'prod-project', location: 'europe-west1', name: 'prod-eu' },
      );
      assert.equal(authorised.options.parallelism, 4);
    });

    it('refuses at plan time a restore plan the code would refuse', function () {
      const plan = { source_clusters: [{ project: 'prod-project' }], restore_into_source: true };
      const refused: [string, Record<string, unknown>, RegExp][] = [
        ['a name with a colon', { 'standby:x': plan }, /Restore plan names/],
        [
          'no target',
          { p: { ...plan, restore_into_source: false } },
          /at least one target cluster unless restore_into_source/,
        ],
        ['no source', { p: { ...plan, source_clusters: [] } }, /at least one source cluster/],
        [
          'an unknown conflict policy',
          { p: { ...plan, options: { conflict_policy: 'overwrite' } } },
          /conflict_policy is fail, skip or replace/,
        ],
        [
          'a fractional parallelism',
          { p: { ...plan, options: { parallelism: 1.5 } } },
          /parallelism a whole number 1-64/,
        ],
        [
          'both value and value_json',
          {
            p: {
              ...plan,
              options: {
                transformations: [
                  { patch: [{ op: 'add', path: '/a', value: 'x', value_json: '"x"' }] },
                ],
              },
            },
          },
          /at most one of value and value_json/,
        ],
        [
          'value_json that is not JSON',
          {
            p: {
              ...plan,
              options: {
                transformations: [{ patch: [{ op: 'add', path: '/a', value_json: 'x' }] }],
              },
            },
          },
          /value_json valid JSON/,
        ],
        [
          'a patch path that is no JSON pointer',
          {
            p: {
              ...plan,
              options: { transformations: [{ patch: [{ op: 'remove', path: 'spec' }] }] },
            },
          },
          /are JSON pointers/,
        ],
      ];
      for (const [what, restore_plans, message] of refused) {
        assert.throws(
          () => loadInfra(infraDir, tools, { vars: { project: VARS.project, restore_plans } }),
          // tofu wraps its messages in a box: read them as one line.
          (error: Error) => message.test(error.message.replace(/[\s│]+/g, ' ')),
          what,
        );
      }
    });

    it('carries in each scheduler tick exactly the deployed policy of its name', function () {
      const deployed = new DeployedConfiguration(
        validate(Deployment, deploymentOf(model), 'LIFEBOAT_DEPLOYMENT'),
      );
      const jobs = model.instances.filter(
        (i) => i.type === 'google_cloud_scheduler_job' && i.name === 'backup',
      );
      assert.deepEqual(jobs.map((j) => j.key).sort(), deployed.policyNames());
      for (const job of jobs) {
        const target = (job.attrs['pubsub_target'] as Record<string, unknown>[])[0];
        const tick = parseMessage(
          'ScheduleTick',
          JSON.parse(Buffer.from(String(target?.['data']), 'base64').toString('utf8')),
        );
        assert.equal(
          canonicalJson(tick.policy),
          canonicalJson(deployed.policy(tick.policy.name)),
          `${job.address}`,
        );
        // What enumerateClusters does with it.
        assert.doesNotThrow(() => deployed.checkPolicy(tick.policy, 'ScheduleTick'));
      }
    });

    it('carries in each drill job exactly the deployed drill policy of its name, which the drill function accepts', function () {
      const deployed = new DeployedConfiguration(
        validate(Deployment, deploymentOf(model), 'LIFEBOAT_DEPLOYMENT'),
      );
      const jobs = model.instances.filter(
        (i) => i.type === 'google_cloud_scheduler_job' && i.name === 'drill',
      );
      assert.deepEqual(jobs.map((j) => j.key).sort(), ['full-drill', 'weekly']);
      assert.deepEqual(deployed.drillPolicyNames(), ['full-drill', 'weekly']);
      for (const job of jobs) {
        const target = (job.attrs['pubsub_target'] as Record<string, unknown>[])[0];
        assert.equal(target?.['topic_name'], '@ref:google_pubsub_topic.topic[drill].id');
        const drill = parseMessage(
          'DrillJob',
          JSON.parse(Buffer.from(String(target?.['data']), 'base64').toString('utf8')),
        );
        assert.equal(drill.cluster, undefined, 'a scheduled drill drills every selected cluster');
        assert.equal(
          canonicalJson(drill.policy),
          canonicalJson(deployed.drillPolicy(drill.policy.name)),
          `${job.address}`,
        );
        // What the drill function does with it.
        assert.doesNotThrow(() => deployed.checkDrillJob(drill));
      }
    });

    it('renders each drill policy, field for field and with the schema’s defaults', function () {
      const deployment = validate(Deployment, deploymentOf(model), 'LIFEBOAT_DEPLOYMENT');
      const expected = (policy: Record<string, unknown>): DrillPolicy =>
        validate(DrillPolicy, policy, 'expected drill policy');
      const drillCluster = { project: 'dr-project', location: 'europe-west4', name: 'drills' };
      assert.deepEqual(
        [...deployment.drillPolicies].sort((a, b) => a.name.localeCompare(b.name)),
        [
          expected({
            name: 'full-drill',
            schedule: '0 5 1 * *',
            projects: ['prod-project', 'shared-project'],
            locations: ['europe-west1'],
            clusterNames: ['prod-*'],
            clusterLabels: { tier: 'critical' },
            backupPolicies: ['critical'],
            drillCluster,
            namespaces: ['app-*'],
            excludeNamespaces: ['app-debug'],
            restoreVolumes: false,
            timeoutSeconds: 900,
            pass: { objectsEqualCatalog: true, volumesBoundToRestoredDisks: false },
          }),
          expected({
            name: 'weekly',
            schedule: '0 6 * * 1',
            projects: ['prod-project'],
            drillCluster,
          }),
        ],
      );
    });

    it('pages on the log entry the drill function writes for a failed drill', function () {
      const alerts = model.instances.filter((i) => i.type === 'google_monitoring_alert_policy');
      assert.equal(alerts.length, 1, 'one alert policy');
      const condition = (alerts[0]!.attrs['conditions'] as Record<string, unknown>[])[0];
      const matched = (condition?.['condition_matched_log'] as Record<string, unknown>[])[0];
      const filter = String(matched?.['filter']);
      assert.ok(
        filter.includes(`jsonPayload.message="${DRILL_FAILED_LOG}"`),
        `the filter names the drill function's message "${DRILL_FAILED_LOG}": ${filter}`,
      );
      assert.ok(filter.includes('jsonPayload.verdict="failed"'), filter);
      assert.ok(filter.includes('resource.labels.service_name="lifeboat-drill"'), filter);
    });

    it('forwards cluster events from every project a backup policy lists, and its own', function () {
      const sinks = model.instances.filter((i) => i.type === 'google_logging_project_sink');
      const policies = (deploymentOf(model) as { backupPolicies: { projects: string[] }[] })
        .backupPolicies;
      const projects = [...new Set([VARS.project, ...policies.flatMap((p) => p.projects)])].sort();
      assert.deepEqual(sinks.map((s) => s.attrs['project']).sort(), projects);
      for (const sink of sinks) {
        // A project's sink reads that project's audit log, where its clusters' deletions are.
        assert.match(
          String(sink.attrs['filter']),
          new RegExp(`logName="projects/${String(sink.attrs['project'])}/logs/cloudaudit`),
        );
      }
    });

    it('forwards cluster events with one aggregated sink when a folder or organisation is given', function () {
      for (const parent of ['folders/123456', 'organizations/789']) {
        const aggregated = loadInfra(infraDir, tools, {
          vars: { ...VARS, cluster_events_log_parent: parent },
        });
        assert.deepEqual(
          aggregated.instances.filter((i) => i.type === 'google_logging_project_sink'),
          [],
        );
        const sinks = aggregated.instances.filter((i) =>
          /^google_logging_(folder|organization)_sink$/.test(i.type),
        );
        assert.equal(sinks.length, 1, parent);
        assert.equal(sinks[0]?.attrs['include_children'], true);
        // The same checks as for project sinks: methods, audit log, writer may publish.
        assert.deepEqual(messagesOf(checkInfra(aggregated, code)), []);
      }
    });

    it('finds the functions that load the data key in the code', function () {
      // The KMS check relies on this scan of functions/*.ts: it must see the known users.
      for (const name of ['exportShard', 'restore'])
        assert.ok(code.dataKeyFunctions.includes(name));
      for (const name of code.dataKeyFunctions) assert.ok(name in Functions, name);
    });

    it('names every function and topic resource after the registered name or role', function () {
      const keys = (type: string, name: string): string[] =>
        model.instances
          .filter((i) => i.type === type && i.name === name)
          .map((i) => i.key ?? '')
          .sort();
      assert.deepEqual(
        keys('google_cloudfunctions2_function', 'function'),
        Object.keys(Functions).sort(),
      );
      assert.deepEqual(keys('google_service_account', 'function'), Object.keys(Functions).sort());
      assert.deepEqual(keys('google_pubsub_topic', 'topic'), [...TopicRoles].sort());
      assert.deepEqual(keys('google_pubsub_topic', 'dead_letter'), [...TopicRoles].sort());
    });

    it('publishes each backup policy, field for field and with the schema’s defaults, in a ScheduleTick', function () {
      const tick = (policy: string): unknown => {
        const job = model.instances.find(
          (i) => i.type === 'google_cloud_scheduler_job' && i.key === policy,
        );
        assert.ok(job, `no scheduler job for backup policy "${policy}"`);
        const target = (job.attrs['pubsub_target'] as Record<string, unknown>[])[0];
        return JSON.parse(Buffer.from(String(target?.['data']), 'base64').toString('utf8'));
      };
      // What the code makes of the fields each policy sets: parseMessage
      // fills in the schema's defaults for the rest.
      const expected = (policy: Record<string, unknown>): unknown =>
        parseMessage('ScheduleTick', {
          apiVersion: 'lifeboat.dev/v1',
          kind: 'ScheduleTick',
          policy,
        });
      assert.deepEqual(tick('nightly'), expected({ name: 'nightly', projects: ['prod-project'] }));
      assert.deepEqual(
        tick('critical'),
        expected({
          name: 'critical',
          projects: ['prod-project', 'shared-project'],
          locations: ['europe-west1'],
          clusterNames: ['prod'],
          clusterLabels: { tier: 'critical' },
          filters: { excludeNamespaces: ['kube-system'], labelSelector: 'backup!=skip' },
          snapshotVolumes: false,
          csiSnapshotClasses: { 'pd.csi.storage.gke.io': 'pd-snapshots' },
          snapshotStorageLocations: ['eu'],
          snapshotType: 'ARCHIVE',
          snapshotTimeoutSeconds: 300,
          ttlDays: 14,
          keepLast: 24,
          deleteLockDays: 7,
          standbyCluster: { project: 'dr-project', location: 'europe-west4', name: 'standby' },
          restoreOnRecreate: true,
        }),
      );
    });
  });

  describe('keeps what is overwritten or deleted in the backup bucket', function () {
    this.timeout(60_000);
    type Rule = { condition: Record<string, unknown>[]; action: Record<string, unknown>[] };
    const bucketOf = (vars: Record<string, unknown>): Record<string, unknown> => {
      const bucket = loadInfra(infraDir, tools, {
        vars: { project: VARS.project, ...vars },
      }).instances.find((i) => i.address === 'google_storage_bucket.backups');
      assert.ok(bucket, 'no google_storage_bucket.backups');
      return bucket.attrs;
    };
    const rules = (bucket: Record<string, unknown>): Record<string, unknown>[] =>
      (bucket['lifecycle_rule'] as Rule[])
        .filter((r) => r.action[0]?.['type'] === 'Delete')
        .map((r) => r.condition[0] ?? {});

    it('by default: versioned, noncurrent versions kept 30 days or more by age, no count limit', function () {
      const bucket = bucketOf({});
      assert.deepEqual(bucket['versioning'], [{ enabled: true }]);
      assert.deepEqual(bucket['retention_policy'], []);
      assert.equal(bucket['enable_object_retention'], false);
      const deletes = rules(bucket);
      assert.ok(deletes.length > 0, 'a lifecycle rule deletes noncurrent versions in time');
      for (const condition of deletes) {
        assert.equal(
          condition['with_state'],
          'ARCHIVED',
          'lifecycle deletes only noncurrent versions',
        );
        assert.equal(
          condition['num_newer_versions'] ?? null,
          null,
          'no count limit: rewriting an object must not erase its history',
        );
        assert.ok(
          typeof condition['days_since_noncurrent_time'] === 'number' &&
            condition['days_since_noncurrent_time'] >= 30,
          `noncurrent versions must be kept 30 days or more: ${JSON.stringify(condition)}`,
        );
      }
    });

    it('adds a count limit, a soft-delete period or object retention only when asked', function () {
      const bucket = bucketOf({
        noncurrent_versions_kept: 5,
        noncurrent_version_days: 45,
        soft_delete_days: 30,
        object_retention_enabled: true,
      });
      assert.deepEqual(
        rules(bucket).map((c) => [c['days_since_noncurrent_time'], c['num_newer_versions']]),
        [
          [45, undefined],
          [undefined, 5],
        ],
      );
      assert.deepEqual(bucket['soft_delete_policy'], [{ retention_duration_seconds: 30 * 86400 }]);
      assert.equal(bucket['enable_object_retention'], true);
      assert.deepEqual(bucketOf({})['soft_delete_policy'], []);
    });

    it('turns versioning off only for a retention policy', function () {
      const bucket = bucketOf({ bucket_retention_days: 35 });
      assert.deepEqual(bucket['versioning'], [{ enabled: false }]);
      assert.deepEqual(bucket['retention_policy'], [
        { is_locked: false, retention_period: String(35 * 86400) },
      ]);
    });

    it('refuses a count limit below one and a soft-delete period Cloud Storage does not allow', function () {
      for (const vars of [
        { noncurrent_versions_kept: 0 },
        { soft_delete_days: 3 },
        { noncurrent_version_days: 0 },
      ]) {
        assert.throws(() => bucketOf(vars), /Invalid value for variable/, JSON.stringify(vars));
      }
    });
  });

  describe('the catalog browser (the ui function)', function () {
    this.timeout(60_000);
    let model: InfraModel;

    before(function () {
      model = loadInfra(infraDir, tools, { vars: VARS });
    });

    const grantsToUi = (m: InfraModel): { address: string; role: unknown; on: unknown }[] =>
      m.instances
        .filter(
          (i) =>
            /_iam_(member|binding)$/.test(i.type) &&
            String(i.attrs['member']) === 'serviceAccount:@ref:google_service_account.ui.email',
        )
        .map((i) => ({
          address: i.address,
          role: i.attrs['role'],
          on: i.attrs['bucket'] ?? i.attrs['crypto_key_id'],
        }))
        .sort((a, b) => a.address.localeCompare(b.address));

    it('runs as an account that may only read the backup bucket and decrypt with the KMS key', function () {
      assert.deepEqual(grantsToUi(model), [
        {
          address: 'google_kms_crypto_key_iam_member.ui_decrypter[0]',
          role: 'roles/cloudkms.cryptoKeyDecrypter',
          on: '@ref:google_kms_crypto_key.catalog[0].id',
        },
        {
          address: 'google_storage_bucket_iam_member.ui_reader',
          role: 'roles/storage.objectViewer',
          on: '@ref:google_storage_bucket.backups.name',
        },
      ]);
      // Without the KMS key, reading the bucket is all it may do.
      const bare = loadInfra(infraDir, tools, {
        vars: { project: VARS.project, kms_enabled: false },
      });
      assert.deepEqual(
        grantsToUi(bare).map((g) => g.role),
        ['roles/storage.objectViewer'],
      );
      assert.deepEqual(messagesOf(checkInfra(bare, code), 'http functions'), []);
    });

    it('is invoked by exactly ui_invokers, by nobody when the list is empty, and by no public member', function () {
      const invokers = (m: InfraModel): unknown[] =>
        m.instances
          .filter(
            (i) => i.type === 'google_cloud_run_v2_service_iam_member' && i.name === 'ui_invoker',
          )
          .map((i) => [i.attrs['role'], i.attrs['member'], i.attrs['name']]);
      const service = '@ref:google_cloudfunctions2_function.ui.service_config[0].service';
      assert.deepEqual(invokers(model), [
        ['roles/run.invoker', 'group:sre@example.com', service],
        ['roles/run.invoker', 'user:alice@example.com', service],
      ]);
      const bare = loadInfra(infraDir, tools, { vars: { project: VARS.project } });
      assert.deepEqual(invokers(bare), []);
      for (const m of [model, bare]) {
        const open = m.instances.filter((i) =>
          [i.attrs['member'], i.attrs['members']]
            .flat()
            .some((x) => x === 'allUsers' || x === 'allAuthenticatedUsers'),
        );
        assert.deepEqual(
          open.map((i) => i.address),
          [],
        );
      }
    });

    it('refuses a public invoker at plan time', function () {
      for (const member of ['allUsers', 'allAuthenticatedUsers']) {
        assert.throws(
          () =>
            loadInfra(infraDir, tools, { vars: { project: VARS.project, ui_invokers: [member] } }),
          (error: Error) =>
            /allUsers and allAuthenticatedUsers are not allowed/.test(
              error.message.replace(/[\s│]+/g, ' '),
            ),
          member,
        );
      }
    });

    it('is called over HTTP only: no topic triggers it and the push identity may not invoke it', function () {
      const ui = model.instances.find((i) => i.address === 'google_cloudfunctions2_function.ui');
      assert.ok(ui, 'no google_cloudfunctions2_function.ui');
      assert.equal(
        (ui.attrs['build_config'] as Record<string, unknown>[])[0]?.['entry_point'],
        'ui',
      );
      assert.deepEqual(ui.attrs['event_trigger'] ?? [], []);
      const env = (ui.attrs['service_config'] as Record<string, unknown>[])[0]?.[
        'environment_variables'
      ] as Record<string, unknown>;
      assert.equal(env['LIFEBOAT_STORE'], 'gs://@ref:google_storage_bucket.backups.name');
      // Only its invoker bindings name it: no push subscription, no push_invoker.
      const naming = model.instances.filter(
        (i) =>
          i.address !== 'google_cloudfunctions2_function.ui' &&
          JSON.stringify(i.attrs).includes('@ref:google_cloudfunctions2_function.ui.'),
      );
      assert.deepEqual(
        naming.map((i) => i.type + '.' + i.name),
        [
          'google_cloud_run_v2_service_iam_member.ui_invoker',
          'google_cloud_run_v2_service_iam_member.ui_invoker',
        ],
      );
    });
  });

  describe('the check', function () {
    this.timeout(60_000);
    let model: InfraModel;

    before(function () {
      model = loadInfra(infraDir, tools, { vars: VARS });
    });

    it('fails when the code registers a function that infra/ does not deploy', function () {
      const functions = { ...Functions, pruneOrphans: { trigger: 'retention', publishes: [] } };
      const found = messagesOf(checkInfra(model, { ...code, functions }), 'functions');
      assert.ok(
        found.some(
          (m) => m.includes('"pruneOrphans"') && m.includes('no google_cloudfunctions2_function'),
        ),
        found.join('\n'),
      );
    });

    it('fails when infra/ deploys a function that the code does not register', function () {
      const functions = Object.fromEntries(
        Object.entries(Functions).filter(([name]) => name !== 'retention'),
      );
      const found = messagesOf(checkInfra(model, { ...code, functions }), 'functions');
      assert.ok(
        found.some((m) => m.includes('entry point "retention"') && m.includes('does not register')),
        found.join('\n'),
      );
    });

    it('fails when the code has a topic role that infra/ lacks', function () {
      const found = messagesOf(
        checkInfra(model, { ...code, topicRoles: [...TopicRoles, 'audit'] }),
        'topics',
      );
      assert.ok(
        found.some((m) => m.includes('topic role "audit"')),
        found.join('\n'),
      );
    });

    describe('on a modified copy of infra/', function () {
      let copy: string;

      beforeEach(function () {
        copy = mkdtempSync(join(tmpdir(), 'lifeboat-infra-copy-'));
        cpSync(infraDir, copy, { recursive: true, filter: (src) => !src.includes('.terraform') });
      });
      afterEach(function () {
        rmSync(copy, { recursive: true, force: true });
      });

      const edit = (file: string, change: (text: string) => string): void => {
        const path = join(copy, file);
        const before = readFileSync(path, 'utf8');
        const after = change(before);
        assert.notEqual(after, before, `the edit of ${file} changed nothing: update this test`);
        writeFileSync(path, after);
      };
      const check = (): Problem[] =>
        checkInfra(loadInfra(copy, tools, { vars: VARS, pathModule: infraDir }), code);

      it('fails when a registered function is missing from it', function () {
        edit('registry.tf', (text) => text.replace(/^ {4}retention = \{\n[\s\S]*?^ {4}\}\n/m, ''));
        const problems = check();
        assert.ok(
          messagesOf(problems, 'functions').some((m) => m.startsWith('function "retention"')),
          messagesOf(problems).join('\n'),
        );
        assert.ok(
          messagesOf(problems, 'entry points').length === 0,
          'only the function is missing; the retention topic is still fed by its scheduler job',
        );
      });

      it('fails when a function may publish to a topic it does not publish to', function () {
        edit('registry.tf', (text) =>
          text.replace(
            /(^ {4}emitCatalog = \{\n[\s\S]*?publishes\s*= \[)/m,
            '$1"restore-completed", ',
          ),
        );
        const found = messagesOf(check(), 'publishing');
        assert.ok(
          found.some((m) => m.includes('"emitCatalog" may publish to "restore-completed"')),
          found.join('\n'),
        );
      });

      it('fails when a function is triggered from another topic than the registry says', function () {
        edit('registry.tf', (text) =>
          text.replace(
            /(^ {4}exportShard = \{\n\s*trigger\s*= )"export-shards"/m,
            '$1"backup-jobs"',
          ),
        );
        const found = messagesOf(check(), 'triggers');
        assert.ok(
          found.some((m) => m.includes('"exportShard" is triggered by "backup-jobs"')),
          found.join('\n'),
        );
      });

      it('fails when a scheduler tick carries another policy than the deployed one', function () {
        edit('scheduler.tf', (text) =>
          text.replace(/policy {5}= policy\n/, 'policy     = merge(policy, { ttlDays = 1 })\n'),
        );
        const found = messagesOf(check(), 'deployment');
        assert.ok(
          found.some(
            (m) =>
              m.includes('carries policy "nightly"') && m.includes('LIFEBOAT_DEPLOYMENT deploys'),
          ),
          found.join('\n'),
        );
      });

      it('fails when the functions are not given the deployment', function () {
        edit('functions.tf', (text) => text.replace(/^ *LIFEBOAT_DEPLOYMENT = .*\n/m, ''));
        const found = messagesOf(check(), 'deployment');
        assert.ok(
          found.some((m) => m.startsWith('function "restore": no LIFEBOAT_DEPLOYMENT')),
          found.join('\n'),
        );
      });

      it('fails when the restore function may create or delete objects unconditionally', function () {
        edit('registry.tf', (text) =>
          text.replace(
            /(^ {4}restore = \{\n[\s\S]*?bucket_permissions = \[)/m,
            '$1"storage.objects.delete", ',
          ),
        );
        const found = messagesOf(check(), 'iam');
        assert.ok(
          found.some(
            (m) =>
              m.startsWith(
                'function "restore": google_storage_bucket_iam_member.function[restore]',
              ) && m.includes('grants storage.objects.delete without a condition'),
          ),
          found.join('\n'),
        );
      });

      it('fails when the restore function’s condition reaches a backup', function () {
        // Without the depth clause, leases/ right below a cluster matches: a backup named "leases".
        edit('iam.tf', (text) =>
          text.replace(/^ *"resource\.name\.extract\([^\n]*\) != resource[^\n]*\n/m, ''),
        );
        const found = messagesOf(check(), 'iam');
        assert.ok(
          found.some((m) =>
            m.includes(`has storage.objects.delete on ${Layout.catalog(cluster, 'leases')}`),
          ),
          found.join('\n'),
        );
      });

      it('fails when the restore function may not write its own objects', function () {
        edit('registry.tf', (text) =>
          text.replace('key_prefixes = ["restores/"]', 'key_prefixes = []'),
        );
        const found = messagesOf(check(), 'iam');
        assert.ok(
          found.some((m) =>
            m.includes(`writes ${Layout.report(restoreId)} but lacks storage.objects.create`),
          ),
          found.join('\n'),
        );
      });

      it('confines the restore function’s writes under the store’s prefix too', function () {
        edit('storage.tf', (text) =>
          text.replace('store_key_prefix = ""', 'store_key_prefix = "lifeboat/"'),
        );
        const problems = check();
        assert.deepEqual(messagesOf(problems, 'iam'), []);
        const restore = loadInfra(copy, tools, { vars: VARS, pathModule: infraDir }).instances.find(
          (i) => i.type === 'google_cloudfunctions2_function' && i.key === 'restore',
        );
        const env = (restore?.attrs['service_config'] as Record<string, unknown>[])[0]?.[
          'environment_variables'
        ] as Record<string, unknown>;
        assert.equal(
          env['LIFEBOAT_STORE'],
          'gs://@ref:google_storage_bucket.backups.name/lifeboat',
        );
      });

      it('fails when a function that loads the data key is not given the KMS key', function () {
        edit('registry.tf', (text) =>
          text.replace(/(^ {4}emitCatalog = \{\n[\s\S]*?kms\s*= )true/m, '$1false'),
        );
        const found = messagesOf(check(), 'iam');
        assert.ok(
          found.some((m) => m.startsWith('function "emitCatalog" loads the data key')),
          found.join('\n'),
        );
      });

      it('fails when the ui function may write to the bucket', function () {
        edit('ui.tf', (text) =>
          text.replace('"roles/storage.objectViewer"', '"roles/storage.objectAdmin"'),
        );
        const found = messagesOf(check(), 'http functions');
        assert.ok(
          found.some(
            (m) =>
              m.startsWith('HTTP function "ui"') &&
              m.includes('roles/storage.objectAdmin') &&
              m.includes('does more than read objects'),
          ),
          found.join('\n'),
        );
      });

      it('fails when the ui function is opened to the public', function () {
        edit('ui.tf', (text) => text.replace('member   = each.value', 'member   = "allUsers"'));
        const found = messagesOf(check(), 'http functions');
        assert.ok(
          found.some((m) => m.includes('to allUsers: public access')),
          found.join('\n'),
        );
        assert.ok(
          found.some((m) => m.includes('but var.ui_invokers lists')),
          found.join('\n'),
        );
      });

      it('fails when the ui function may use the KMS key to encrypt', function () {
        edit('ui.tf', (text) =>
          text.replace(
            '"roles/cloudkms.cryptoKeyDecrypter"',
            '"roles/cloudkms.cryptoKeyEncrypterDecrypter"',
          ),
        );
        const found = messagesOf(check(), 'http functions');
        assert.ok(
          found.some((m) => m.includes('is granted roles/cloudkms.cryptoKeyEncrypterDecrypter')),
          found.join('\n'),
        );
      });

      it('fails when it has a topic the code does not', function () {
        edit('registry.tf', (text) =>
          text.replace(/"drill-completed",\n(\s*)\]/, '"drill-completed",\n$1"audit",\n$1]'),
        );
        const found = messagesOf(check(), 'topics');
        assert.ok(
          found.some((m) => m.includes('"lifeboat-audit"') && m.includes('no topic role')),
          found.join('\n'),
        );
      });
    });
  });
});
