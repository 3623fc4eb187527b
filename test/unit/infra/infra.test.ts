import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Functions } from '../../../functions/registry.js';
import { TopicRoles } from '../../../shared/bus/topics.js';
import { WatchedMethods } from '../../../shared/messages/cluster-event.js';
import { parseMessage } from '../../../shared/messages/index.js';
import { checkInfra, Checks, type Check, type CodeFlow, type Problem } from './infra-check.js';
import { loadInfra, type InfraModel } from './infra-model.js';
import { infraDir, infraTools, run, tofuEnv, type InfraTools } from './tools.js';

/** The message each scheduler-fed topic carries. */
const TICKS: Record<string, 'ScheduleTick' | 'RetentionTick'> = {
  schedule: 'ScheduleTick',
  retention: 'RetentionTick',
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

const code: CodeFlow = {
  functions: Functions,
  topicRoles: TopicRoles,
  watchedMethods: WatchedMethods,
  validateTick,
};

/**
 * Inputs to evaluate infra/ with: two backup policies (one minimal, one
 * setting every field) so that their scheduler jobs exist, and the KMS key
 * on so that its bindings are checked too.
 */
const VARS = {
  project: 'lifeboat-test',
  region: 'europe-west1',
  kms_enabled: true,
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
};

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
      assert.deepEqual(messagesOf(checkInfra(example, code)), []);
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

      it('fails when it has a topic the code does not', function () {
        edit('registry.tf', (text) =>
          text.replace(/"retention",\n(\s*)\]/, '"retention",\n$1"audit",\n$1]'),
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
