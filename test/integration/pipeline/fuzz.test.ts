import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { Functions, type FunctionName } from '../../../functions/registry.js';
import { TopicRoles } from '../../../shared/bus/topics.js';
import { volumeKey, writePlan, type BackupPlan } from '../../../shared/backup/parts.js';
import { planBackup } from '../../../shared/backup/plan.js';
import { exportShardInProcess, runBackup, startBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { mapLimit } from '../../../shared/concurrency.js';
import { errorMessage } from '../../../shared/errors.js';
import { resourcePath } from '../../../shared/kube/kube-http.js';
import { loadSealer } from '../../../shared/catalog/data-key.js';
import { LocalKeyWrapper } from '../../../shared/crypto/key-wrapper.js';
import {
  API_VERSION,
  BackupPolicy,
  DrillPolicy,
  parseAuditLogEntry,
  parseMessage,
  RestorePlan,
  type ClusterRef,
  type MessageKind,
} from '../../../shared/messages/index.js';
import { validate } from '../../../shared/validate.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { SOURCE, TARGET } from '../../../local/backup-fixture.js';
import { required, unique } from '../../../local/settings.js';
import {
  allPaths,
  clone,
  DEEP_PLACEHOLDER,
  deepText,
  hostileString,
  hostileValue,
  mutateJson,
  pointer,
  preview,
  setAt,
  type Json,
} from '../../support/fuzz-mutate.js';
import { fuzzSeed, Random } from '../../support/fuzz-random.js';
import {
  diff,
  foreignRequest,
  FunctionTarget,
  hostileEnvelope,
  hostilePayload,
  pushRequest,
  type Answer,
  type Change,
  type FuzzRequest,
  TopicWatch,
  type HandlerLine,
} from '../../support/fuzz-target.js';
import { create, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { pdCsiVolume } from '../../../local/pd-volume.js';

/*
 * Fuzzing every deployed function with hostile Pub/Sub pushes.
 *
 * Each function runs alone in its own Lifeboat (its own bucket, topics and
 * log), as a real Functions Framework server, deployed with one backup
 * policy (cluster local/local/source, one fresh namespace), one restore
 * plan (that namespace into the target cluster, renamed) and one drill
 * policy (that namespace drilled into the target cluster; it requires a
 * cluster label, which no kubeconfig context has, so a job naming no
 * cluster drills none). Each case starts
 * from a valid message of the function's kind, is mutated (wrong types,
 * missing and extra fields, hostile strings, deep nesting, other clusters,
 * undeployed policies and plans, ...), and is POSTed to the function's push
 * endpoint in the envelope the emulator uses, with a hostile envelope, or as
 * no push request at all. The bucket (all of it, with generations) is listed
 * around every case the oracle expects may write (a valid message the
 * deployment allows) and after each run of cases it expects to write
 * nothing, so every write is attributed.
 *
 * Classes: refused (2xx, the function logged why it refused), accepted (2xx,
 * the work ran), 5xx (the function threw a transient error), crashed (its
 * process died, or it did not answer), framework (the Functions Framework
 * answered 4xx/5xx to a body that is no push request, before any Lifeboat
 * code ran; only such bodies may get that answer).
 *
 * The rules: no crash, no hang; no 5xx except for a message that is valid,
 * allowed by the deployment, logged as transient, and that passes when sent
 * again (a 5xx that repeats is a redelivery loop); nothing written by a
 * refused case; an accepted case writes only what its message allows, under
 * the store's prefix; the clusters gain nothing but the plan's restores; no
 * function publishes to a topic functions/registry.ts does not give it; a
 * few malformed messages through the emulator's real push subscriptions are
 * each delivered once. Known findings (below) are printed, not failed.
 *
 * LIFEBOAT_FUZZ_SEED=<seed> replays a run; LIFEBOAT_FUZZ_CASES=<total> (2000
 * by default, spread over the nine functions); LIFEBOAT_FUZZ_VERBOSE=1 also
 * prints each function's most frequent answers and the CPU used.
 */

const SEED = fuzzSeed();
const TOTAL = Number(process.env['LIFEBOAT_FUZZ_CASES'] ?? 2000);
const NAMES = Object.keys(Functions) as FunctionName[];
const PER_FUNCTION = Math.ceil(TOTAL / NAMES.length);
const REQUEST_TIMEOUT_MS = 90_000;
const REPLAY_ENV = `LIFEBOAT_FUZZ_SEED=${SEED}${
  process.env['LIFEBOAT_FUZZ_CASES'] ? ` LIFEBOAT_FUZZ_CASES=${TOTAL}` : ''
}`;
const REPLAY =
  `${REPLAY_ENV} npm test -- --grep fuzz (or, built: ${REPLAY_ENV} node dist/local/with-env.js -- ` +
  'mocha --no-config --timeout 900000 --enable-source-maps dist/test/integration/pipeline/fuzz.test.js)';

type Msg = Record<string, Json>;
type Class = 'refused' | 'accepted' | '5xx' | 'crashed' | 'framework' | 'error';

interface Case {
  fn: FunctionName;
  i: number;
  tier: 'payload' | 'envelope' | 'foreign';
  request: FuzzRequest;
  answer?: Answer;
  crashed?: boolean;
  changes: Change[];
  /** When the case was listed with others (none expected to write): how many. */
  batch?: number;
  lines: HandlerLine[];
  cls?: Class;
  /** The known finding this case probes. */
  probe?: string;
}

const label = (c: Case): string =>
  `${c.fn}#${c.i}${c.probe ? ` (probe ${c.probe})` : ''} [${c.tier}: ${c.request.what.join('; ') || 'valid'}]`;

/** Why the function refused or failed a case, as it logged it. */
const reasonOf = (c: Case): string | undefined => c.lines.find((l) => l.reason)?.reason;

/** A breach of the rules, about one case when it names one. */
interface Problem {
  text: string;
  c?: Case;
}

const describeProblem = (p: Problem): string => (p.c ? `${label(p.c)}: ${p.text}` : p.text);

/**
 * Bugs this test has found in production code, reported (printed) instead of
 * failed until they are fixed. Each has a probe, a case sent on every run: a
 * finding whose probe passes is fixed, and the test fails until its entry is
 * deleted here.
 */
interface KnownFinding {
  id: string;
  description: string;
  matches(p: Problem): boolean;
  probe: {
    fn: FunctionName;
    make(spec: Spec, target: FunctionTarget, i: number): Omit<Case, 'changes' | 'lines'>;
    /** Whether this matching problem is the probe's doing. */
    shows(p: Problem, probe: Case): boolean;
  };
}

const KNOWN_FINDINGS: KnownFinding[] = [];

/** What a mutator did to a message, for the failure message. */
type Mutator = (r: Random, m: Msg) => string;

interface Spec {
  name: FunctionName;
  base(): Msg;
  /** Changes that keep the message valid and allowed (more real work). */
  valid: Mutator[];
  /** Changes that keep it schema-valid but ask what the deployment does not allow. */
  denied: Mutator[];
  /** The function's own schema (defaults filled in): throws on an invalid message. */
  parse(json: unknown): Msg;
  /** Whether the deployment (and the plans in the store) allow what this valid message asks. */
  authorised(m: Msg): boolean;
  /** Whether an accepted message may make this change (key relative to the store's prefix). */
  mayWrite(key: string, change: Change['change'], m: Msg): boolean;
  /** Messages for the emulator: each refused on its first delivery. */
  refusedThroughEmulator(): Msg[];
}

const sameCluster = (a: Json | undefined, b: ClusterRef): boolean => isDeepStrictEqual(a, { ...b });

const isPack = (key: string): boolean =>
  /^objects\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\.jsonl\.gz$/.test(key);

const OTHER_CLUSTERS: ClusterRef[] = [
  TARGET,
  { project: 'other-project', location: 'us-central1', name: 'prod' },
  { project: 'local', location: 'europe-west1', name: 'source' },
  { project: 'local', location: 'local', name: 'missing' },
];

describe('fuzz: every function against hostile Pub/Sub pushes', function () {
  this.timeout(900_000);
  const lifeboats = new Map<FunctionName, LocalLifeboat>();
  const targets = new Map<FunctionName, FunctionTarget>();
  const specs = new Map<FunctionName, Spec>();
  const elapsed = new Map<FunctionName, number>();
  const watches = new Map<FunctionName, TopicWatch>();
  let ns: string;
  let nsRestored: string;
  let pv: string;
  let policy: Msg;
  let drillPolicy: Msg;
  let started = 0;
  /** Set when the test ends: no case is sent and no function restarted after it. */
  let stopping = false;
  const running: Promise<unknown>[] = [];

  before(async function () {
    this.timeout(300_000);
    started = Date.now();
    console.log(`      fuzz seed ${SEED}, ${PER_FUNCTION} cases per function; replay: ${REPLAY}`);
    // Fails loudly without the local environment: nothing here is skipped.
    for (const v of [
      'LIFEBOAT_STORAGE_ENDPOINT',
      'PUBSUB_EMULATOR_HOST',
      'LIFEBOAT_KUBECONFIG',
      'LIFEBOAT_SOURCE_KUBECONFIG',
      'LIFEBOAT_TARGET_KUBECONFIG',
    ])
      required(v);
    assert.ok(Number.isSafeInteger(TOTAL) && TOTAL >= NAMES.length, 'LIFEBOAT_FUZZ_CASES');

    ns = unique('fz');
    nsRestored = `${ns}-r`;
    pv = `${ns}-pv`;
    const source = kubeHttp('source');
    await create(source, R.namespaces, { metadata: { name: ns } });
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns },
      data: { color: 'blue' },
    });
    await create(
      source,
      R.pvs,
      pdCsiVolume(pv, {
        volumeHandle: `projects/acme/zones/europe-west1-b/disks/${pv}`,
        claimRef: { namespace: ns, name: 'uploads' },
      }),
    );
    await create(source, R.pvcs, {
      metadata: { name: 'uploads', namespace: ns },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'standard',
        volumeName: pv,
        resources: { requests: { storage: '5Gi' } },
      },
    });

    policy = validate(
      BackupPolicy,
      {
        name: 'fuzz',
        projects: ['local'],
        clusterNames: ['source'],
        filters: { includeNamespaces: [ns] },
        snapshotVolumes: true,
      },
      'fuzz policy',
    ) as unknown as Msg;
    const plan = validate(
      RestorePlan,
      {
        name: 'fuzz-plan',
        sourceClusters: [{ project: 'local', location: 'local', name: 'source' }],
        targetClusters: [TARGET],
        options: {
          includeNamespaces: [ns],
          namespaceMapping: { [ns]: nsRestored },
          excludeResources: [
            'persistentvolumes',
            'persistentvolumeclaims',
            'customresourcedefinitions',
          ],
          conflictPolicy: 'replace',
          parallelism: 4,
        },
      },
      'fuzz restore plan',
    );
    drillPolicy = validate(
      DrillPolicy,
      {
        name: 'fuzz-drill',
        projects: ['local'],
        locations: ['local'],
        clusterNames: ['source'],
        clusterLabels: { drill: 'fuzz' },
        backupPolicies: ['fuzz'],
        drillCluster: TARGET,
        namespaces: [ns],
        restoreVolumes: false,
        timeoutSeconds: 120,
      },
      'fuzz drill policy',
    ) as unknown as Msg;
    const deployment = {
      backupPolicies: [policy],
      restorePlans: [plan],
      drillPolicies: [drillPolicy],
    };

    // A few at a time: nine Functions Framework servers starting at once crowd two cores. A
    // server slow to start on a busy machine gets a second chance; every start ends (and is
    // stopped by after()) before a failure is thrown.
    const failures: unknown[] = [];
    await mapLimit(NAMES, 3, async (name) => {
      try {
        let lb: LocalLifeboat | undefined;
        for (let attempt = 1; !lb; attempt++) {
          try {
            lb = await startLocalLifeboat({ functions: [name], logLevel: 'debug', deployment });
          } catch (error) {
            if (attempt >= 2) throw error;
            console.log(
              `      ${name} did not start (${errorMessage(error).split('\n')[0]}); again`,
            );
          }
        }
        lifeboats.set(name, lb);
        targets.set(name, new FunctionTarget(name, lb, Functions[name].trigger));
        const { trigger, publishes } = Functions[name];
        const forbidden = TopicRoles.filter(
          (role) => role !== trigger && !(publishes as readonly string[]).includes(role),
        );
        watches.set(name, await TopicWatch.open(lb, forbidden));
      } catch (error) {
        failures.push(error);
      }
    });
    if (failures.length) throw failures[0];
    const built = await seedStores();
    for (const spec of built) specs.set(spec.name, spec);
    console.log(`      setup took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    stopping = true;
    await Promise.allSettled(running);
    await Promise.all([...lifeboats.values()].map((lb) => lb.stop()));
    // The PV is cluster-wide: it goes (with its claim), so no later backup of every namespace
    // meets it. No controller runs to lift the protection finalizers: they are lifted here.
    if (pv) {
      const source = kubeHttp('source');
      for (const path of [
        resourcePath(R.pvcs, ns, 'uploads'),
        resourcePath(R.pvs, undefined, pv),
      ]) {
        await source
          .request('PATCH', path, {
            body: { metadata: { finalizers: null } },
            contentType: 'application/merge-patch+json',
          })
          .then(() => source.request('DELETE', path))
          .catch(() => undefined);
      }
      source.close();
    }
  });

  /** The data each function's valid message needs, in its own bucket; the specs built on it. */
  async function seedStores(): Promise<Spec[]> {
    const source = kubeHttp('source');
    const job = (backupId: string): { backupId: string; cluster: ClusterRef; policy: never } => ({
      backupId,
      cluster: SOURCE,
      policy: clone(policy) as never,
    });
    const sealed = async (name: FunctionName) => {
      const lb = lifeboats.get(name)!;
      const wrapper = new LocalKeyWrapper(lb.keyFile);
      const sealer = await loadSealer(lb.store, wrapper);
      return {
        http: source,
        store: lb.store,
        sealer,
        encryption: { keyId: sealer.keyId, wrappedBy: wrapper.id },
      };
    };
    const full = async (name: FunctionName, backupId: string): Promise<void> => {
      const { catalog } = await runBackup(await sealed(name), job(backupId));
      assert.equal(catalog.phase, 'Completed', `${name}: seeded backup ${backupId}`);
    };
    let shardPlan: BackupPlan | undefined;
    await Promise.all([
      sealed('enumerateClusters'),
      sealed('exportManifests'),
      full('restore', 'fuzz-restore'),
      full('clusterEvents', 'fuzz-events'),
      full('retention', 'fuzz-retention'),
      full('drill', 'fuzz-drill'),
      (async () => {
        shardPlan = (await startBackup(await sealed('exportShard'), job('fuzz-shard'))).plan;
      })(),
      (async () => {
        const deps = await sealed('emitCatalog');
        const started = await startBackup(deps, job('fuzz-catalog'));
        for (const shard of started.plan.shards) await exportShardInProcess(deps, started, shard);
      })(),
      (async () => {
        const deps = await sealed('snapshotDisks');
        const filters = (policy['filters'] ?? {}) as never;
        await writePlan(
          deps.store,
          await planBackup(source, { ...job('fuzz-disk'), filters, volumes: [pv] }),
        );
        lifeboats.get('snapshotDisks')!.compute.seedDisk({
          project: 'acme',
          zone: 'europe-west1-b',
          name: pv,
          sizeGb: 5,
          bytes: Buffer.from('disk bytes'),
        });
      })(),
    ]);
    return buildSpecs(shardPlan!);
  }

  function buildSpecs(shardPlan: BackupPlan): Spec[] {
    const header = (kind: MessageKind): Msg => ({ apiVersion: API_VERSION, kind });
    const ours =
      (kind: MessageKind) =>
      (json: unknown): Msg =>
        parseMessage(kind, json) as unknown as Msg;
    const samePolicy = (m: Msg): boolean => isDeepStrictEqual(m['policy'], policy);
    const POLICY_CHANGES: [string, Json][] = [
      ['ttlDays', 1],
      ['clusterNames', ['*']],
      ['projects', ['local', 'other-project']],
      ['locations', ['local']],
      ['filters', { ...(policy['filters'] as Msg), includeNamespaces: ['*'] }],
      ['snapshotVolumes', false],
      ['deleteLockDays', 3],
      ['standbyCluster', { ...TARGET }],
      ['restoreOnRecreate', true],
      ['keepLast', 1],
      ['clusterLabels', { env: 'prod' }],
      ['snapshotType', 'ARCHIVE'],
    ];
    const policyDenied: Mutator[] = [
      (r, m) => {
        const name = r.pick(['other', 'fuzz-2', 'nightly', 'standby']);
        (m['policy'] as Msg)['name'] = name;
        return `policy.name = ${name} (not deployed)`;
      },
      (r, m) => {
        const [field, value] = r.pick(POLICY_CHANGES);
        (m['policy'] as Msg)[field] = clone(value);
        return `policy.${field} = ${preview(value)}`;
      },
    ];
    const clusterDenied =
      (field: string): Mutator =>
      (r, m) => {
        const c = r.pick(OTHER_CLUSTERS);
        m[field] = { ...c };
        return `${field} = ${Layout.clusterKey(c)}`;
      };
    const backupIdDenied: Mutator = (r, m) => {
      const id = r.pick(['fuzz-other', 'no-such-backup', `fz-${r.label(6)}`]);
      m['backupId'] = id;
      return `backupId = ${id} (no plan)`;
    };
    const minute = (r: Random): string =>
      new Date(
        Date.UTC(2026, r.int(0, 11), r.int(1, 28), r.int(0, 23), r.int(0, 59)),
      ).toISOString();

    const configmaps = shardPlan.shards.find(
      (s) => s.resource.resource === 'configmaps' && s.resource.group === '',
    );
    assert.ok(configmaps, 'the seeded plan has a configmaps shard');
    const plannedShard = (m: Msg): boolean =>
      shardPlan.shards.some(
        (s) => s.shardId === m['shardId'] && isDeepStrictEqual(s.resource, m['resource']),
      );

    // A request under a used restore id with other content is refused: half get a new id.
    const freshId = (r: Random, m: Msg): string =>
      r.chance(0.5)
        ? ((m['restoreId'] = `fz-${r.label(8)}`), `, restoreId = ${m['restoreId']}`)
        : '';
    const sourceOf = (m: Msg): Json | undefined => {
      const b = m['backup'] as Msg;
      return 'backupId' in b ? b['cluster'] : b['latestOf'];
    };
    const entry = (over: Msg = {}): Msg => ({
      insertId: 'fuzz-entry',
      logName: 'projects/local/logs/cloudaudit.googleapis.com%2Factivity',
      timestamp: '2026-11-30T03:00:00Z',
      resource: {
        type: 'gke_cluster',
        labels: { project_id: 'local', location: 'local', cluster_name: 'source' },
      },
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        serviceName: 'container.googleapis.com',
        methodName: 'google.container.v1.ClusterManager.DeleteCluster',
        resourceName: 'projects/local/locations/local/clusters/source',
      },
      operation: { id: 'op-fuzz', producer: 'container.googleapis.com', first: true },
      ...over,
    });
    const entryCluster = (m: Msg): ClusterRef => {
      const l = (m['resource'] as Msg)['labels'] as Msg;
      return {
        project: String(l['project_id']),
        location: String(l['location']),
        name: String(l['cluster_name']),
      };
    };

    const DRILL_POLICY_CHANGES: [string, Json][] = [
      ['drillCluster', { ...SOURCE }],
      ['drillCluster', { project: 'other-project', location: 'us-central1', name: 'prod' }],
      ['clusterNames', ['*']],
      ['clusterLabels', {}],
      ['namespaces', ['*']],
      ['restoreVolumes', true],
      ['timeoutSeconds', 86_400],
      ['backupPolicies', ['other']],
    ];
    const drillIdOf = (m: Msg): string => String(m['drillId']);

    const specList: Spec[] = [
      {
        name: 'enumerateClusters',
        base: () => ({
          ...header('ScheduleTick'),
          policy: clone(policy),
          scheduledTime: '2026-11-30T02:00:00Z',
        }),
        valid: [
          (r, m) => ((m['scheduledTime'] = minute(r)), `scheduledTime = ${m['scheduledTime']}`),
          (_r, m) => (delete m['scheduledTime'], 'no scheduledTime (the publish time is used)'),
        ],
        denied: policyDenied,
        parse: ours('ScheduleTick'),
        authorised: samePolicy,
        // It lists clusters and publishes jobs; it never writes the store.
        mayWrite: () => false,
        refusedThroughEmulator: () => [
          { ...header('ScheduleTick'), policy: { ...clone(policy), name: 'other' } },
        ],
      },
      {
        name: 'exportManifests',
        base: () => ({
          ...header('ClusterBackupJob'),
          backupId: 'fuzz-20261130-0200',
          cluster: { ...SOURCE },
          policy: clone(policy),
          scheduledTime: '2026-11-30T02:00:00Z',
        }),
        valid: [
          (r, m) => ((m['backupId'] = `fz-${r.label(8)}`), `backupId = ${m['backupId']}`),
          (r, m) => ((m['scheduledTime'] = minute(r)), `scheduledTime = ${m['scheduledTime']}`),
        ],
        denied: [...policyDenied, clusterDenied('cluster')],
        parse: ours('ClusterBackupJob'),
        authorised: (m) => {
          const c = m['cluster'] as Msg;
          return samePolicy(m) && c['project'] === 'local' && c['name'] === 'source';
        },
        mayWrite: (key, change, m) =>
          change === 'created' &&
          (key === Layout.plan(m['cluster'] as never, String(m['backupId'])) ||
            key === Layout.storeMarker()),
        refusedThroughEmulator: () => [
          {
            ...header('ClusterBackupJob'),
            backupId: 'fuzz-emulator',
            cluster: { ...SOURCE },
            policy: { ...clone(policy), ttlDays: 1 },
            scheduledTime: '2026-11-30T02:00:00Z',
          },
        ],
      },
      {
        name: 'exportShard',
        base: () => ({
          ...header('ExportShard'),
          backupId: 'fuzz-shard',
          cluster: { ...SOURCE },
          policy: clone(policy),
          shardId: configmaps.shardId,
          resource: clone(configmaps.resource) as unknown as Json,
          segment: 0,
        }),
        valid: [
          (r, m) => ((m['segment'] = r.int(1, 4)), `segment = ${m['segment']}`),
          (r, m) => {
            const s = r.pick(shardPlan.shards);
            m['shardId'] = s.shardId;
            m['resource'] = clone(s.resource) as unknown as Json;
            return `shard = ${s.shardId}`;
          },
          (r, m) => {
            const start: Msg = { [r.pick(['afterKey', 'continueToken'])]: hostileString(r) };
            m['start'] = start;
            return `start = ${preview(start)}`;
          },
        ],
        denied: [
          ...policyDenied,
          clusterDenied('cluster'),
          backupIdDenied,
          (r, m) => {
            const other = r.pick(shardPlan.shards.filter((s) => s.shardId !== m['shardId']));
            m['resource'] = clone(other.resource) as unknown as Json;
            return `resource = ${other.shardId}'s (not the plan's for this shard)`;
          },
          (r, m) => (
            (m['shardId'] = r.pick(['no-such-shard', 'configmaps.', 'a..b'])),
            `shardId = ${m['shardId']}`
          ),
        ],
        parse: ours('ExportShard'),
        authorised: (m) =>
          sameCluster(m['cluster'], SOURCE) &&
          m['backupId'] === 'fuzz-shard' &&
          samePolicy(m) &&
          plannedShard(m),
        mayWrite: (key, _change, m) =>
          key.startsWith(
            Layout.partsPrefix(SOURCE, 'fuzz-shard') + `manifests/${String(m['shardId'])}/`,
          ) ||
          isPack(key) ||
          key === Layout.storeMarker(),
        refusedThroughEmulator: () => [
          {
            ...header('ExportShard'),
            backupId: 'fuzz-shard',
            cluster: { ...SOURCE },
            policy: clone(policy),
            shardId: 'no-such-shard',
            resource: clone(configmaps.resource) as unknown as Json,
            segment: 0,
          },
        ],
      },
      {
        name: 'snapshotDisks',
        base: () => ({
          ...header('VolumeSnapshotJob'),
          backupId: 'fuzz-disk',
          cluster: { ...SOURCE },
          policy: clone(policy),
          pvName: pv,
        }),
        valid: [() => 'the same job again'],
        denied: [
          ...policyDenied,
          clusterDenied('cluster'),
          backupIdDenied,
          (r, m) => {
            const name = r.pick([
              `${pv}-other`,
              `../${pv}`,
              `${pv}/..`,
              `${pv}\u0000`,
              'kube-root-ca.crt',
              hostileString(r).slice(0, 253) || 'x',
            ]);
            m['pvName'] = name;
            return `pvName = ${preview(name)}`;
          },
        ],
        parse: ours('VolumeSnapshotJob'),
        authorised: (m) =>
          sameCluster(m['cluster'], SOURCE) &&
          m['backupId'] === 'fuzz-disk' &&
          samePolicy(m) &&
          m['pvName'] === pv,
        mayWrite: (key, change) =>
          change === 'created' && key === volumeKey({ cluster: SOURCE, backupId: 'fuzz-disk' }, pv),
        refusedThroughEmulator: () => [
          {
            ...header('VolumeSnapshotJob'),
            backupId: 'fuzz-disk',
            cluster: { ...SOURCE },
            policy: clone(policy),
            pvName: `${pv}-other`,
          },
        ],
      },
      {
        name: 'emitCatalog',
        base: () => ({
          ...header('PartDone'),
          backupId: 'fuzz-catalog',
          cluster: { ...SOURCE },
          partId: 'plan',
          partKind: 'plan',
          ok: true,
        }),
        valid: [
          (r, m) => (
            (m['partId'] = hostileString(r).slice(0, 200) || 'p'),
            `partId = ${preview(m['partId'])}`
          ),
          (r, m) => (
            (m['partKind'] = r.pick(['plan', 'manifests', 'volume'])),
            `partKind = ${m['partKind']}`
          ),
          (_r, m) => ((m['ok'] = false), (m['error'] = 'failed'), 'ok = false'),
        ],
        denied: [clusterDenied('cluster'), backupIdDenied],
        parse: ours('PartDone'),
        authorised: (m) => sameCluster(m['cluster'], SOURCE) && m['backupId'] === 'fuzz-catalog',
        mayWrite: (key, change) =>
          change === 'created' &&
          ([
            Layout.catalog(SOURCE, 'fuzz-catalog'),
            Layout.seal(SOURCE, 'fuzz-catalog'),
            Layout.announced(SOURCE, 'fuzz-catalog'),
          ].includes(key) ||
            // Claims to announce it, numbered (announce-once.ts).
            key.startsWith(
              Layout.announceClaim(SOURCE, 'fuzz-catalog', 1).replace(/\d+\.json$/, ''),
            )),
        refusedThroughEmulator: () => [
          {
            ...header('PartDone'),
            backupId: 'no-such-backup',
            cluster: { ...SOURCE },
            partId: 'plan',
            partKind: 'plan',
            ok: true,
          },
        ],
      },
      {
        name: 'restore',
        base: () => ({
          ...header('RestoreRequest'),
          restoreId: 'fz-restore',
          plan: 'fuzz-plan',
          backup: { backupId: 'fuzz-restore', cluster: { ...SOURCE } },
          target: { ...TARGET },
          step: 0,
        }),
        valid: [
          (r, m) => ((m['restoreId'] = `fz-${r.label(8)}`), `restoreId = ${m['restoreId']}`),
          (r, m) => {
            const narrow = r.pick<Msg>([
              { dryRun: true },
              { includeNamespaces: [ns] },
              { includeNamespaces: ['*'] },
              { includeNamespaces: ['kube-system', 'default'] },
              { excludeResources: ['configmaps'] },
              { includeResources: ['*'], excludeNamespaces: [] },
            ]);
            m['narrow'] = narrow;
            return `narrow = ${preview(narrow)}${freshId(r, m)}`;
          },
          (r, m) => (
            (m['backup'] = { latestOf: { ...SOURCE } }),
            `backup = latest of source${freshId(r, m)}`
          ),
          (r, m) => (
            (m['step'] = r.int(1, 3)),
            (m['resolvedBackupId'] = 'fuzz-restore'),
            `a chained step${freshId(r, m)}`
          ),
        ],
        denied: [
          (r, m) => (
            (m['plan'] = r.pick(['standby:fuzz', 'recreate:fuzz', 'other-plan', 'fuzz'])),
            `plan = ${m['plan']} (not deployed)`
          ),
          clusterDenied('target'),
          (_r, m) => ((m['target'] = { ...SOURCE }), 'target = the source cluster'),
          (r, m) => {
            const c = r.pick(OTHER_CLUSTERS);
            m['backup'] = r.chance(0.5)
              ? { backupId: 'fuzz-restore', cluster: { ...c } }
              : { latestOf: { ...c } };
            return `backup of ${Layout.clusterKey(c)}`;
          },
        ],
        parse: ours('RestoreRequest'),
        authorised: (m) =>
          m['plan'] === 'fuzz-plan' &&
          sameCluster(sourceOf(m), SOURCE) &&
          sameCluster(m['target'], TARGET),
        mayWrite: (key, _change, m) => {
          const id = String(m['restoreId']);
          return (
            key.startsWith(`restores/${id}/`) ||
            (key.startsWith(Layout.clusterBackups(SOURCE)) && key.endsWith(`/leases/${id}.json`))
          );
        },
        refusedThroughEmulator: () => [
          {
            ...header('RestoreRequest'),
            restoreId: 'fz-emulator',
            plan: 'other-plan',
            backup: { backupId: 'fuzz-restore', cluster: { ...SOURCE } },
            target: { ...TARGET },
          },
        ],
      },
      {
        name: 'clusterEvents',
        base: () => entry(),
        valid: [
          (r, m) => (((m['operation'] as Msg)['id'] = `op-${r.label(6)}`), 'a new operation id'),
          (r, m) => ((m['timestamp'] = minute(r)), `timestamp = ${m['timestamp']}`),
          (_r, m) => (
            ((m['protoPayload'] as Msg)['methodName'] =
              'google.container.v1.ClusterManager.CreateCluster'),
            (m['operation'] = { id: 'op-fuzz-create', last: true }),
            'CreateCluster'
          ),
          (r, m) => (
            ((m['protoPayload'] as Msg)['status'] = { code: r.int(1, 16) }),
            'a failed request'
          ),
          (_r, m) => ((m['operation'] = { id: 'op-fuzz', last: true }), 'the end of the deletion'),
          (r, m) => {
            const c = r.pick(OTHER_CLUSTERS.filter((x) => x.location !== 'europe-west1'));
            m['resource'] = {
              type: 'gke_cluster',
              labels: { project_id: c.project, location: c.location, cluster_name: c.name },
            };
            return `a deletion of ${Layout.clusterKey(c)}`;
          },
          (r, m) => (
            (m[r.pick(['severity', 'labels', 'receiveTimestamp'])] = hostileValue(r)),
            'an extra entry field'
          ),
        ],
        denied: [],
        parse: (json) => parseAuditLogEntry(json) as unknown as Msg,
        // In local mode (kubeconfig contexts, no Container API to ask) an entry is acted on as given.
        authorised: () => true,
        mayWrite: (key, _change, m) => {
          const proto = m['protoPayload'] as Msg;
          const op = (m['operation'] ?? {}) as Msg;
          if (proto['methodName'] !== 'google.container.v1.ClusterManager.DeleteCluster')
            return false;
          if (((proto['status'] as Msg | undefined)?.['code'] ?? 0) !== 0) return false;
          if (op['last'] === true && op['first'] !== true) return false;
          const c = entryCluster(m);
          return (
            key === Layout.deletedMarker(c) ||
            key.startsWith(Layout.clusterBackups(c)) ||
            isPack(key)
          );
        },
        refusedThroughEmulator: () => {
          const { logName: _dropped, ...rest } = entry();
          return [rest];
        },
      },
      {
        name: 'drill',
        base: () => ({
          ...header('DrillJob'),
          drillId: 'fz-drill',
          policy: clone(drillPolicy),
          cluster: { ...SOURCE },
          backupId: 'fuzz-drill',
        }),
        valid: [
          (r, m) => ((m['drillId'] = `fz${r.label(8)}`), `drillId = ${m['drillId']}`),
          (_r, m) => (delete m['backupId'], 'no backupId (the latest backup)'),
          (r, m) => ((m['requestedAt'] = minute(r)), `requestedAt = ${m['requestedAt']}`),
          // The policy requires a label no kubeconfig context has: the fan-out finds no cluster.
          (_r, m) => (delete m['cluster'], 'no cluster (every cluster the policy selects)'),
        ],
        denied: [
          (r, m) => {
            const name = r.pick(['other', 'fuzz', 'weekly']);
            (m['policy'] as Msg)['name'] = name;
            return `policy.name = ${name} (not deployed)`;
          },
          (r, m) => {
            const [field, value] = r.pick(DRILL_POLICY_CHANGES);
            (m['policy'] as Msg)[field] = clone(value);
            return `policy.${field} = ${preview(value)}`;
          },
          clusterDenied('cluster'),
        ],
        parse: ours('DrillJob'),
        authorised: (m) =>
          isDeepStrictEqual(m['policy'], drillPolicy) &&
          (m['cluster'] === undefined || sameCluster(m['cluster'], SOURCE)),
        // What its restore writes (under the drill's restore id), its report beside the
        // backup it names and its index entry; a job naming no cluster writes nothing.
        mayWrite: (key, _change, m) => {
          if (m['cluster'] === undefined) return false;
          const id = drillIdOf(m);
          const restoreId = `drill-${id}`;
          return (
            key.startsWith(`restores/${restoreId}/`) ||
            key === Layout.drillIndex(id) ||
            (key.startsWith(Layout.clusterBackups(SOURCE)) &&
              (key.endsWith(`/leases/${restoreId}.json`) || key.endsWith(`/drills/${id}.json`)))
          );
        },
        refusedThroughEmulator: () => [
          {
            ...header('DrillJob'),
            drillId: 'fz-emulator',
            policy: { ...clone(drillPolicy), name: 'other' },
            cluster: { ...SOURCE },
          },
        ],
      },
      {
        name: 'retention',
        base: () => ({ ...header('RetentionTick'), dryRun: false }),
        valid: [
          (_r, m) => ((m['dryRun'] = true), 'dryRun'),
          (r, m) => ((m['scheduledTime'] = minute(r)), `scheduledTime = ${m['scheduledTime']}`),
        ],
        denied: [],
        parse: ours('RetentionTick'),
        authorised: () => true,
        // Nothing in its bucket has expired or been abandoned: a sweep has nothing to mark or delete.
        mayWrite: () => false,
        refusedThroughEmulator: () => [{ ...header('RetentionTick'), dryRun: 'yes' }],
      },
    ];
    return specList;
  }

  /** One case for a function: a valid message, mutated, in a request. */
  function generate(spec: Spec, target: FunctionTarget, r: Random, i: number): Case {
    const id = `fz-${spec.name}-${i}`;
    let message: Json = spec.base();
    const what: string[] = [];
    if (r.chance(0.4)) what.push(`valid: ${r.pick(spec.valid)(r, message)}`);
    const how = r.weighted<string>([
      [spec.denied.length ? 3 : 0, 'denied'],
      [6, 'structural'],
      [2, 'none'],
    ]);
    if (how === 'denied') what.push(`denied: ${r.pick(spec.denied)(r, message)}`);
    if (how === 'structural') {
      for (let k = r.int(1, 3); k > 0; k--) {
        const m = mutateJson(r, message);
        message = m.value;
        what.push(m.what);
      }
    }
    let text = JSON.stringify(message);
    if (r.chance(0.04) && typeof message === 'object' && message !== null) {
      // Deeper than anything that walks JSON recursively survives; spliced in as text.
      const paths = [...allPaths(message), ['deep']];
      const at = r.pick(paths);
      setAt(message, at, DEEP_PLACEHOLDER);
      const depth = r.pick([1_000, 20_000, 200_000]);
      const objects = r.chance(0.5);
      text = JSON.stringify(message).replace(`"${DEEP_PLACEHOLDER}"`, deepText(depth, objects));
      what.push(`${pointer(at)} nested ${depth} ${objects ? 'objects' : 'arrays'} deep`);
    }
    let bytes: Buffer = Buffer.from(text);
    const tier = r.weighted<Case['tier']>([
      [76, 'payload'],
      [16, 'envelope'],
      [8, 'foreign'],
    ]);
    if (tier === 'payload' && r.chance(0.1)) {
      const h = hostilePayload(r, bytes);
      bytes = h.bytes;
      what.push(`payload: ${h.what}`);
    }
    const data = bytes.toString('base64');
    const request =
      tier === 'payload'
        ? pushRequest(data, id, target.subscription)
        : tier === 'envelope'
          ? hostileEnvelope(r, data, id, target.subscription)
          : foreignRequest(r, data, id);
    request.what = [...what, ...request.what];
    return { fn: spec.name, i, tier, request, changes: [], lines: [] };
  }

  /** The message the function decoded from a case, if it is valid (the oracle's view). */
  function decoded(spec: Spec, c: Case): Msg | undefined {
    if (c.request.data === undefined) return undefined;
    try {
      return spec.parse(JSON.parse(Buffer.from(c.request.data, 'base64').toString('utf8')));
    } catch {
      return undefined;
    }
  }

  /** Whether the oracle expects a case may write: a valid message the deployment allows. */
  function mayWrite(spec: Spec, c: Case): boolean {
    const message = decoded(spec, c);
    return message !== undefined && spec.authorised(message);
  }

  async function runFunction(name: FunctionName): Promise<Case[]> {
    const spec = specs.get(name)!;
    const target = targets.get(name)!;
    const r = new Random(SEED).fork(NAMES.indexOf(name) + 1);
    const cases: Case[] = [];
    for (let i = 0; i < PER_FUNCTION; i++) cases.push(generate(spec, target, r, i));
    for (const k of KNOWN_FINDINGS.filter((f) => f.probe.fn === name)) {
      cases.push({ ...k.probe.make(spec, target, cases.length), changes: [], lines: [] });
    }
    // The bucket is listed around every case the oracle expects may write, and after each run
    // of cases it expects to write nothing: a write there is a finding whichever case made it.
    let before = await target.snapshot();
    let batch: Case[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const after = await target.snapshot();
      const changes = diff(before, after);
      for (const c of batch) {
        c.changes = changes;
        if (batch.length > 1) c.batch = batch.length;
      }
      before = after;
      batch = [];
    };
    for (const c of cases) {
      if (stopping) break;
      const writes = mayWrite(spec, c);
      if (writes) await flush();
      c.answer = await target.post(c.request, REQUEST_TIMEOUT_MS);
      if (!target.alive()) {
        c.crashed = true;
        if (!stopping) await target.restart();
      }
      batch.push(c);
      if (writes || c.crashed || batch.length >= 25) await flush();
    }
    await flush();
    return cases.filter((c) => c.answer !== undefined);
  }

  /** Sorts each case into its class from its answer and the function's log. */
  function classify(name: FunctionName, cases: Case[], problems: Problem[]): void {
    const lines = targets.get(name)!.handlerLines();
    const byId = new Map<string, HandlerLine[]>();
    for (const l of lines) byId.set(l.messageId, [...(byId.get(l.messageId) ?? []), l]);
    const known = new Set(cases.map((c) => c.request.messageId).filter((x) => x !== undefined));
    known.add(`fz-${name}-sentinel`);
    const isStart = (l: HandlerLine): boolean => l.event === 'invoked' || l.event === 'rejected';
    const reached = (a: Answer): boolean =>
      (a.status !== undefined && a.status >= 200 && a.status < 300) || a.googleStatus === 'error';
    for (const c of cases)
      c.lines = c.request.messageId ? (byId.get(c.request.messageId) ?? []) : [];
    // A request whose id the function cannot tell is logged under another ('unknown'). Cases run
    // one at a time, so those invocations come in the order of the cases that made them.
    const untold = cases.filter((c) => reached(c.answer!) && !c.lines.some(isStart));
    const groups: HandlerLine[][] = [];
    for (const l of lines.filter((x) => !known.has(x.messageId))) {
      if (isStart(l) || groups.length === 0) groups.push([l]);
      else groups[groups.length - 1]!.push(l);
    }
    if (groups.length !== untold.length) {
      problems.push({
        text:
          `${name}: ${untold.length} cases reached the function without a log line of their own, ` +
          `but it logged ${groups.length} invocations under other ids; the cases: ` +
          untold
            .slice(0, 6)
            .map((c) => `${label(c)} HTTP ${c.answer?.status}`)
            .join(' | '),
      });
    } else {
      untold.forEach((c, k) => (c.lines = groups[k]!));
    }
    for (const c of cases) {
      const a = c.answer!;
      const starts = c.lines.filter(isStart);
      if (starts.length > 1) problems.push({ c, text: `invoked ${starts.length} times` });
      if (c.crashed || a.googleStatus === 'crash') c.cls = 'crashed';
      else if (a.error !== undefined) c.cls = 'error';
      else if (a.status! >= 200 && a.status! < 300) {
        c.cls = c.lines.some((l) => l.event === 'rejected' || l.event === 'permanent')
          ? 'refused'
          : 'accepted';
      } else if (a.status! >= 500 && a.googleStatus === 'error') c.cls = '5xx';
      else c.cls = 'framework';
    }
  }

  /** The rules; every breach is a problem naming the case. */
  function check(spec: Spec, target: FunctionTarget, cases: Case[], problems: Problem[]): void {
    for (const c of cases) {
      const report = (text: string): void => void problems.push({ c, text });
      const a = c.answer!;
      const answer = a.error ?? `HTTP ${a.status}${a.googleStatus ? ` (${a.googleStatus})` : ''}`;
      const reason = reasonOf(c);
      if (c.cls === 'crashed') report(`the function crashed (${answer})`);
      if (c.cls === 'error') report(`no answer (${answer})`);
      if (c.cls === 'framework' && c.tier !== 'foreign') {
        report(`a push request answered ${answer} before Lifeboat ran`);
      }
      const message = decoded(spec, c);
      if (c.cls === '5xx') {
        if (!message || !spec.authorised(message)) {
          report(
            `5xx for a message that is ${message ? 'not allowed' : 'malformed'} (${reason ?? 'no reason logged'})`,
          );
        } else if (!c.lines.some((l) => l.event === 'transient')) {
          report('5xx without a logged transient reason');
        }
      }
      if ((c.cls === 'accepted' || c.lines.some((l) => l.event === 'invoked')) && !message) {
        report('the function took a message the schema refuses (the oracle disagrees)');
      }
      if (c.changes.length === 0) continue;
      const shown = (changes: Change[]): string =>
        changes
          .slice(0, 4)
          .map((x) => `${x.change} ${x.name}`)
          .join(', ') + (changes.length > 4 ? `, ... (${changes.length})` : '');
      if (c.batch) {
        // Only cases the oracle expected to write nothing are listed together.
        report(
          `one of ${c.batch} cases listed together (none a valid, allowed message) wrote: ${shown(c.changes)}`,
        );
        continue;
      }
      const outside = c.changes.filter((x) => !x.name.startsWith(target.storePrefix));
      if (outside.length) report(`wrote outside the store's prefix: ${shown(outside)}`);
      if (c.cls !== 'accepted' && c.cls !== '5xx') {
        report(`${c.cls} (${reason ?? answer}) but wrote: ${shown(c.changes)}`);
        continue;
      }
      if (!message || !spec.authorised(message)) {
        report(`wrote for a message the deployment does not allow: ${shown(c.changes)}`);
        continue;
      }
      const stray = c.changes.filter(
        (x) => !spec.mayWrite(x.name.slice(target.storePrefix.length), x.change, message),
      );
      if (stray.length) report(`wrote what its message does not allow: ${shown(stray)}`);
    }
  }

  it(`sends ${PER_FUNCTION * NAMES.length} hostile pushes: no crash, no 5xx for malformed input, no write a valid message does not allow`, async () => {
    const problems: Problem[] = [];
    const kubeBefore = await kubeState();
    const fuzzStarted = Date.now();
    const results = new Map<FunctionName, Case[]>();
    const runs = NAMES.map(async (name) => {
      const t0 = Date.now();
      results.set(name, await runFunction(name));
      elapsed.set(name, Date.now() - t0);
    });
    running.push(...runs);
    // Every run ends before anything is judged (or the functions stopped).
    const settled = await Promise.allSettled(runs);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    const fuzzMs = Date.now() - fuzzStarted;

    // Every line of every case is in the log once the sentinel's is.
    await Promise.all(
      NAMES.map(async (name) => {
        const target = targets.get(name)!;
        const id = `fz-${name}-sentinel`;
        await target.post(
          pushRequest(Buffer.from('sentinel').toString('base64'), id, target.subscription),
          90_000,
        );
        await target.waitForLine(id, 90_000);
        classify(name, results.get(name)!, problems);
        check(specs.get(name)!, target, results.get(name)!, problems);
      }),
    );

    // A transient failure must be transient: a 5xx that repeats is a redelivery loop.
    for (const [name, cases] of results) {
      const target = targets.get(name)!;
      for (const c of cases.filter((x) => x.cls === '5xx')) {
        let last: Answer | undefined;
        for (let attempt = 0; attempt < 2; attempt++) {
          await new Promise((r) => setTimeout(r, 1000));
          last = await target.post(c.request, REQUEST_TIMEOUT_MS);
          if (last.status !== undefined && last.status < 500) break;
        }
        if (last?.status === undefined || last.status >= 500) {
          problems.push({
            c,
            text: `5xx on every one of 3 deliveries (${reasonOf(c) ?? 'no reason'}): Pub/Sub would redeliver it until it dead-letters`,
          });
        }
      }
    }

    await throughTheEmulator(problems);

    // Nothing published where registry.ts does not let the function publish.
    await Promise.all(
      NAMES.map(async (name) => {
        for (const { role, data } of await watches.get(name)!.drain(90_000)) {
          problems.push({
            text: `${name} published to ${role}, which it may not: ${preview(data, 400)}`,
          });
        }
      }),
    );

    const kubeAfter = await kubeState();
    const restored = results
      .get('restore')!
      .some((c) => c.cls === 'accepted' && c.changes.length > 0);
    checkKube(kubeBefore, kubeAfter, restored, problems);

    printTable(results, fuzzMs);
    // Known findings are reported, not failed, while their probe still shows them.
    const known = problems.filter((p) => KNOWN_FINDINGS.some((k) => k.matches(p)));
    for (const k of KNOWN_FINDINGS) {
      const shown = known.filter((p) => k.matches(p));
      if (shown.length === 0) continue;
      console.log(
        `      KNOWN FINDING (reported, not failed) ${k.id}: ${k.description}\n` +
          shown
            .slice(0, 4)
            .map((p) => `        - ${describeProblem(p)}`)
            .join('\n') +
          (shown.length > 4 ? `\n        ... and ${shown.length - 4} more` : ''),
      );
    }
    for (const k of KNOWN_FINDINGS) {
      const probe = results.get(k.probe.fn)!.find((c) => c.probe === k.id);
      if (probe && !known.some((p) => k.matches(p) && k.probe.shows(p, probe))) {
        problems.push({
          text: `known finding ${k.id} no longer shows (its probe ${label(probe)} passed): delete it from KNOWN_FINDINGS`,
        });
      }
    }
    const failing = problems.filter((p) => !known.includes(p));
    if (failing.length) {
      assert.fail(
        `fuzz (seed ${SEED}) found ${failing.length} problem(s); replay: ${REPLAY}\n` +
          failing
            .slice(0, 40)
            .map((p) => `  - ${describeProblem(p)}`)
            .join('\n') +
          (failing.length > 40 ? `\n  ... and ${failing.length - 40} more` : ''),
      );
    }
  });

  /**
   * A few malformed messages through the real topics and push subscriptions:
   * each is acknowledged on its first delivery (the log shows one invocation).
   */
  async function throughTheEmulator(problems: Problem[]): Promise<void> {
    const sent: { name: FunctionName; id: string; what: string }[] = [];
    await Promise.all(
      NAMES.map(async (name) => {
        const lb = lifeboats.get(name)!;
        const topic = lb.pipeline.pubsub.topic(lb.pipeline.topic(Functions[name].trigger));
        const payloads: [string, Buffer][] = [
          ['not JSON', Buffer.from('not json {')],
          ['another kind', Buffer.from(JSON.stringify({ apiVersion: API_VERSION, kind: 'Nope' }))],
          ...specs
            .get(name)!
            .refusedThroughEmulator()
            .map((m): [string, Buffer] => ['a refused message', Buffer.from(JSON.stringify(m))]),
        ];
        for (const [what, data] of payloads) {
          const id = await topic.publishMessage({ data });
          sent.push({ name, id, what });
        }
        const attributes = { '../../etc': 'x', 'a\u0000b': '%2F..%2F', long: 'v'.repeat(1000) };
        const id = await topic.publishMessage({ data: Buffer.from('{"kind":'), attributes });
        sent.push({ name, id, what: 'broken JSON with hostile attributes' });
      }),
    );
    // Each is refused (or fails); then any redelivery would follow at once.
    for (const s of sent) {
      await targets
        .get(s.name)!
        .waitForLine(s.id, 90_000, ['rejected', 'permanent', 'transient'])
        .catch(() => undefined);
    }
    // The emulator redelivers a nacked push at once: a few seconds show any redelivery.
    await new Promise((r) => setTimeout(r, 4000));
    for (const s of sent) {
      const lines = targets
        .get(s.name)!
        .handlerLines()
        .filter((l) => l.messageId === s.id);
      const deliveries = lines.filter((l) => l.event === 'invoked' || l.event === 'rejected');
      const refused = lines.some((l) => l.event === 'rejected' || l.event === 'permanent');
      if (deliveries.length !== 1 || !refused) {
        problems.push({
          text:
            `${s.name}: ${s.what} through the emulator (message ${s.id}) was delivered ` +
            `${deliveries.length} times (${lines.map((l) => l.event).join(', ')}); ` +
            'expected one delivery, refused and acknowledged',
        });
      }
    }
    console.log(
      `      through the emulator: ${sent.length} malformed or refused messages on the real push ` +
        'subscriptions, each checked for a single delivery',
    );
  }

  async function kubeState(): Promise<Record<'source' | 'target', Set<string>>> {
    const of = async (which: 'source' | 'target'): Promise<Set<string>> => {
      const http = kubeHttp(which);
      const namespaces = await list(http, R.namespaces);
      const configmaps = await list(http, R.configmaps);
      const pvs = await list(http, R.pvs);
      return new Set([
        ...namespaces.map((n) => `namespace ${n.metadata.name}`),
        ...configmaps.map((c) => `configmap ${c.metadata.namespace}/${c.metadata.name}`),
        ...pvs.map((p) => `pv ${p.metadata.name}`),
      ]);
    };
    return { source: await of('source'), target: await of('target') };
  }

  function checkKube(
    before: Record<'source' | 'target', Set<string>>,
    after: Record<'source' | 'target', Set<string>>,
    restored: boolean,
    problems: Problem[],
  ): void {
    for (const which of ['source', 'target'] as const) {
      const gained = [...after[which]].filter((x) => !before[which].has(x));
      const allowed = (x: string): boolean =>
        which === 'target' &&
        restored &&
        (x === `namespace ${nsRestored}` || x.startsWith(`configmap ${nsRestored}/`));
      const stray = gained.filter((x) => !allowed(x));
      if (stray.length) {
        problems.push({
          text: `the ${which} cluster gained what no allowed restore makes: ${stray.slice(0, 5).join(', ')}`,
        });
      }
    }
  }

  function printTable(results: Map<FunctionName, Case[]>, fuzzMs: number): void {
    const columns = [
      'sent',
      'refused',
      'accepted',
      '5xx',
      'crashed',
      'wrote',
      'framework',
      'seconds',
    ] as const;
    const rows = NAMES.map((name) => {
      const cases = results.get(name)!;
      const count = (cls: Class): number => cases.filter((c) => c.cls === cls).length;
      return {
        name,
        sent: cases.length,
        refused: count('refused'),
        accepted: count('accepted'),
        '5xx': count('5xx'),
        crashed: count('crashed') + count('error'),
        wrote: cases.filter((c) => c.changes.length > 0).length,
        framework: count('framework'),
        seconds: Math.round((elapsed.get(name) ?? 0) / 1000),
      };
    });
    const total = Object.fromEntries(
      columns.map((k) => [k, rows.reduce((sum, row) => sum + row[k], 0)]),
    ) as Record<(typeof columns)[number], number>;
    total.seconds = Math.round(fuzzMs / 1000);
    const line = (name: string, values: Record<(typeof columns)[number], number>): string =>
      `      ${name.padEnd(18)}${columns.map((k) => String(values[k]).padStart(10)).join('')}`;
    console.log(
      `\n      fuzz seed ${SEED}: ${total.sent} cases in ${(fuzzMs / 1000).toFixed(1)} s` +
        ` (${((Date.now() - started) / 1000).toFixed(1)} s with setup)`,
    );
    console.log(`      ${'function'.padEnd(18)}${columns.map((k) => k.padStart(10)).join('')}`);
    for (const row of rows) console.log(line(row.name, row));
    console.log(line('total', total));
    console.log(
      '      (framework: the Functions Framework answered 4xx/5xx to a body that is no Pub/Sub push, before Lifeboat ran)\n',
    );
    if (process.env['LIFEBOAT_FUZZ_VERBOSE']) {
      const cpu = (pid: number | undefined): string => {
        try {
          const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          return `${((Number(f[11]) + Number(f[12])) / 100).toFixed(1)} s`;
        } catch {
          return '?';
        }
      };
      const own = process.cpuUsage();
      console.log(
        `      CPU: this process ${((own.user + own.system) / 1e6).toFixed(1)} s; ` +
          NAMES.map(
            (n) => `${n} ${cpu(lifeboats.get(n)!.pipeline.servers.get(n)?.service.child.pid)}`,
          ).join(', '),
      );
      // What the functions said, most frequent first: is the fuzz reaching past the schema?
      for (const name of NAMES) {
        const reasons = new Map<string, number>();
        for (const c of results.get(name)!) {
          const key = `${c.cls}: ${(reasonOf(c) ?? '').replace(/"[^"]*"/g, '"…"').slice(0, 110)}`;
          reasons.set(key, (reasons.get(key) ?? 0) + 1);
        }
        console.log(`      ${name}:`);
        for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
          console.log(`        ${String(n).padStart(4)}  ${reason}`);
        }
      }
    }
  }
});
