import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  exportShardInProcess,
  finishBackup,
  startBackup,
  type InProcessBackup,
  type StartedBackup,
} from '../shared/backup/run-backup.js';
import { CATALOG_FORMAT, catalogDigest } from '../shared/catalog/catalog-format.js';
import { readCatalog } from '../shared/catalog/catalog-io.js';
import { classifyKey, Layout } from '../shared/catalog/layout.js';
import { isRetryable } from '../shared/errors.js';
import type { KubeHttp } from '../shared/kube/kube-http.js';
import { BackupPolicy } from '../shared/messages/common.js';
import { sweep, type RetentionReport } from '../shared/pipeline/retention.js';
import { comparable, waitEstablished } from '../shared/restore/apply-object.js';
import { loadBackup, manifestOf } from '../shared/catalog/load-backup.js';
import { runRestore } from '../shared/restore/run-restore.js';
import { LocalStore } from '../shared/store/local-store.js';
import { validate } from '../shared/validate.js';
import { restoreOptions, SOURCE, TARGET } from '../local/backup-fixture.js';
import { FaultyStore, Killed } from '../local/faulty-store.js';
import { create, ensure, get, R, type Ref } from '../local/kube-requests.js';
import { WIDGET_CRD } from '../local/sample-workload.js';

/** The lifecycle under test, in figures: the benchmark prints them, the test asserts on them. */
export type DurabilitySummary = {
  seed: number;
  sequences: number;
  steps: number;
  backups: number;
  sweeps: number;
  faults: number;
  held_sweeps: number;
  expired: number;
  deleted_packs: number;
  catalogs_checked: number;
  catalogs_lost: number;
  restores: number;
  /** Set when an invariant broke: what was lost, and how to replay it. */
  failure?: string;
};

export interface DurabilityOptions {
  seed: number;
  sequences: number;
  stepsPerSequence?: number;
  /** Restore a sampled backup into the target API server every this many sequences. */
  restoreEvery?: number;
  /** A unique tag for namespaces, so runs against the same API servers never meet. */
  tag: string;
  source: KubeHttp;
  target: KubeHttp;
}

/** A small, fast, seeded PRNG (mulberry32): the same seed replays the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const HOUR = 3_600_000;
const PODTEMPLATES: Ref = { group: '', version: 'v1', resource: 'podtemplates', namespaced: true };

/** A lifecycle invariant broken. */
class DurabilityFailure extends Error {}

/**
 * Random interleavings of backups of a changing cluster under two policies,
 * retention sweeps at random times on a controlled clock, and injected
 * faults. After every step, every catalog retention has not expired must
 * verify (catalog digest, every pack present and matching); a sample is
 * restored into a real API server and compared object for object.
 */
export async function runDurability(options: DurabilityOptions): Promise<DurabilitySummary> {
  const summary: DurabilitySummary = {
    seed: options.seed,
    sequences: 0,
    steps: 0,
    backups: 0,
    sweeps: 0,
    faults: 0,
    held_sweeps: 0,
    expired: 0,
    deleted_packs: 0,
    catalogs_checked: 0,
    catalogs_lost: 0,
    restores: 0,
  };
  for (const http of [options.source, options.target]) {
    await ensure(http, R.crds, WIDGET_CRD);
    await waitEstablished(http, WIDGET_CRD.metadata.name);
  }
  for (let i = 0; i < options.sequences; i += 1) {
    const sequence = new Sequence(options, i, summary);
    try {
      await sequence.run();
    } catch (error) {
      const replay = `replay: seed ${options.seed}, sequence ${i} (npm run bench -- durability --seed ${options.seed} --sequences ${i + 1}); the sequence: ${sequence.trace.join('; ')}`;
      if (error instanceof DurabilityFailure) {
        summary.catalogs_lost += 1;
        return { ...summary, failure: `${error.message}; ${replay}` };
      }
      throw new Error(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}; ${replay}`,
        {
          cause: error,
        },
      );
    }
    summary.sequences += 1;
  }
  return summary;
}

class Sequence {
  private readonly random: () => number;
  private readonly ns: string;
  private readonly inner: LocalStore;
  private readonly store: FaultyStore;
  // Starts at the real time: packs carry real modification times, and the sweep compares them with its clock.
  private now = Date.now();
  private counter = 0;
  /** Every catalog ever seen, and whether retention expired it. */
  private readonly known = new Map<string, 'alive' | 'expired'>();
  /** Catalogs made unreadable on purpose, with the bytes to put back. */
  private readonly faulted = new Map<string, Buffer>();
  private running: { started: StartedBackup; policy: BackupPolicy; left: number } | undefined;
  private readonly policies: BackupPolicy[];

  constructor(
    private readonly options: DurabilityOptions,
    private readonly index: number,
    private readonly summary: DurabilitySummary,
  ) {
    this.random = prng(options.seed * 1_000_003 + index);
    this.ns = `dur-${options.tag}-${index}`;
    this.inner = new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-durability-')));
    this.store = new FaultyStore(this.inner);
    const filters = {
      includeNamespaces: [this.ns],
      includeResources: ['widgets', 'podtemplates'],
      includeClusterResources: 'off',
    };
    const policy = (p: object): BackupPolicy =>
      validate(
        BackupPolicy,
        { projects: ['local'], snapshotVolumes: false, filters, ...p },
        'policy',
      );
    this.policies = [
      policy({ name: 'hourly', keepLast: 2, ttlDays: 2 }),
      policy({ name: 'nightly', keepLast: 3, ttlDays: 7, deleteLockDays: this.pick([0, 1]) }),
    ];
  }

  /** What the sequence did, for the failure message: replaying the seed repeats it. */
  readonly trace: string[] = [];

  private advance(): void {
    const hours = 1 + Math.floor(this.random() * 40);
    this.now += hours * HOUR;
    this.trace.push(`+${hours}h`);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private get deps(): InProcessBackup {
    return { http: this.options.source, store: this.store, clock: () => new Date(this.now) };
  }

  async run(): Promise<void> {
    await create(this.options.source, R.namespaces, { metadata: { name: this.ns } });
    for (let n = 0; n < 3; n += 1) await this.mutate('create');
    const steps = this.options.stepsPerSequence ?? 12;
    for (let step = 0; step < steps; step += 1) {
      const r = this.random();
      if (r < 0.2) await this.mutate();
      else if (r < 0.45) await this.backup();
      else if (r < 0.57) this.advance();
      else if (r < 0.8) await this.sweep();
      else if (r < 0.87) await this.makeUnreadable();
      else if (r < 0.93) await this.upgradeReader();
      else if (r < 0.97) await this.writtenByOlderRelease();
      else await this.abandon();
      this.summary.steps += 1;
      await this.check(`step ${step}`);
    }
    // The end: every fault lifted, a long time later, a clean sweep; everything not expired still verifies.
    this.store.disarm();
    while (this.faulted.size > 0) await this.upgradeReader();
    if (this.running) await this.finishRunning();
    this.now += 30 * 24 * HOUR;
    await this.sweep(false);
    await this.check('the final sweep');
    if (this.index % (this.options.restoreEvery ?? 1) === 0) await this.restoreSample();
  }

  /** Changes the cluster: a widget or pod template created, changed or deleted. */
  private async mutate(kind?: 'create'): Promise<void> {
    const http = this.options.source;
    const ref = this.pick([R.widgets, PODTEMPLATES]);
    const name = `o${Math.floor(this.random() * 6)}`;
    const body =
      ref === R.widgets
        ? {
            apiVersion: 'example.lifeboat.dev/v1',
            kind: 'Widget',
            metadata: { name, namespace: this.ns },
            spec: { size: Math.floor(this.random() * 100), color: this.pick(['red', 'blue']) },
          }
        : {
            metadata: { name, namespace: this.ns },
            template: {
              metadata: { labels: { rev: String(Math.floor(this.random() * 100)) } },
              spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
            },
          };
    const existing = await get(http, ref, this.ns, name);
    const action = kind ?? (existing ? this.pick(['update', 'delete']) : 'create');
    const path = `${ref.group ? `/apis/${ref.group}` : '/api'}/${ref.version}/namespaces/${this.ns}/${ref.resource}`;
    if (!existing) await http.request('POST', path, { body });
    else if (action === 'delete') await http.request('DELETE', `${path}/${name}`);
    else {
      const metadata = { ...body.metadata, resourceVersion: existing.metadata.resourceVersion };
      await http.request('PUT', `${path}/${name}`, { body: { ...body, metadata } });
    }
  }

  private nextId(policy: BackupPolicy): string {
    this.counter += 1;
    return `${policy.name}-${String(this.counter).padStart(4, '0')}`;
  }

  /** A backup, sometimes with a pack upload failing; sometimes left running across later steps. */
  private async backup(): Promise<void> {
    if (this.running) return this.finishRunning();
    const policy = this.pick(this.policies);
    const job = { backupId: this.nextId(policy), cluster: SOURCE, policy };
    if (this.random() < 0.15) {
      this.store.arm({
        op: 'create',
        keys: (k) => k.startsWith('objects/'),
        mode: this.pick(['transient', 'lost-reply'] as const),
      });
      this.summary.faults += 1;
    }
    const started = await startBackup(this.deps, job);
    this.summary.backups += 1;
    this.trace.push(`backup ${job.backupId} (base ${started.plan.previousBackupId ?? 'none'})`);
    const shards = started.plan.shards.length;
    // Part of the shards now; the rest after other steps (a sweep, another backup) have run.
    const first = this.random() < 0.35 ? Math.floor(this.random() * shards) : shards;
    for (const shard of started.plan.shards.slice(0, first))
      await exportShardInProcess(this.deps, started, shard);
    this.running = { started, policy, left: first };
    if (first === shards) await this.finishRunning();
  }

  private async finishRunning(): Promise<void> {
    const run = this.running!;
    this.running = undefined;
    for (const shard of run.started.plan.shards.slice(run.left))
      await exportShardInProcess(this.deps, run.started, shard);
    const backupId = run.started.plan.backupId;
    try {
      const catalog = await finishBackup(this.deps, {
        backupId,
        cluster: SOURCE,
        policy: run.policy,
      });
      this.trace.push(`finished ${backupId} ${catalog.phase}`);
    } catch (error) {
      // A sweep finished it as abandoned meanwhile, and its catalog was then made unreadable.
      if (!this.faulted.has(backupId)) throw error;
      this.trace.push(`finish of ${backupId} refused: its catalog is unreadable`);
    }
    this.store.disarm();
  }

  /** A backup planned and then never heard of again: a later sweep must finish it, not lose it. */
  private async abandon(): Promise<void> {
    if (this.running) return;
    const policy = this.pick(this.policies);
    const backupId = this.nextId(policy);
    await startBackup(this.deps, { backupId, cluster: SOURCE, policy });
    this.summary.backups += 1;
    this.trace.push(`abandoned ${backupId}`);
  }

  private async sweep(faults = true): Promise<void> {
    let killed = false;
    if (faults && this.random() < 0.25) {
      this.store.arm({
        op: 'get',
        keys: (k) => k.endsWith('/catalog.json'),
        mode: 'transient',
        after: Math.floor(this.random() * 3),
      });
      this.summary.faults += 1;
    }
    if (faults && this.random() < 0.25) {
      this.store.arm({
        op: 'delete',
        keys: () => true,
        mode: 'kill',
        after: Math.floor(this.random() * 6),
      });
      this.summary.faults += 1;
    }
    const expiring: string[] = [];
    let report: RetentionReport | undefined;
    try {
      report = await sweep(this.store, undefined, {
        now: this.now,
        packGraceMs: 0,
        onExpiring: (_cluster, backupId) => expiring.push(backupId),
      });
    } catch (error) {
      // Killed mid-way, or a transient read failure it chose not to sweep through: the next sweep carries on.
      if (!(error instanceof Killed) && !isRetryable(error)) throw error;
      killed = true;
    }
    this.store.disarm();
    this.summary.sweeps += 1;
    for (const id of expiring) this.known.set(id, 'expired');
    this.trace.push(
      `sweep${killed ? ' (killed)' : ''}: expired [${expiring.join(' ')}]${report ? `, finished [${report.finished.map((f) => f.backupId).join(' ')}], held ${report.held.length}, packs deleted ${report.deletedPacks}` : ''}`,
    );
    if (killed || !report) return;
    this.summary.expired += report.expired.length;
    this.summary.deleted_packs += report.deletedPacks;
    if (report.held.length > 0) this.summary.held_sweeps += 1;
    for (const id of this.faulted.keys()) {
      if (!report.unreadable.some((u) => u.backupId === id))
        throw new DurabilityFailure(`the sweep did not report unreadable catalog ${id}`);
      if (report.deletedPacks > 0)
        throw new DurabilityFailure(
          `the sweep deleted ${report.deletedPacks} packs around unreadable catalog ${id}`,
        );
    }
    if (report.unrestorable.length > 0)
      throw new DurabilityFailure(
        `kept backups lost packs: ${JSON.stringify(report.unrestorable)}`,
      );
  }

  private alive(): string[] {
    return [...this.known].filter(([, s]) => s === 'alive').map(([id]) => id);
  }

  /** A catalog this version cannot read: garbage, or a newer format. */
  private async makeUnreadable(): Promise<void> {
    const candidates = this.alive().filter((id) => !this.faulted.has(id));
    if (candidates.length === 0) return;
    const id = this.pick(candidates);
    const key = Layout.catalog(SOURCE, id);
    const original = await this.inner.get(key);
    this.faulted.set(id, original);
    this.summary.faults += 1;
    this.trace.push(`unreadable ${id}`);
    if (this.random() < 0.5) {
      await this.inner.put(key, original.subarray(0, Math.floor(original.length / 2)));
      return;
    }
    const newer = JSON.parse(original.toString('utf8')) as Record<string, unknown>;
    newer['formatVersion'] = CATALOG_FORMAT + 1;
    newer['writtenBy'] = 'lifeboat 9.0.0';
    newer['digest'] = catalogDigest(newer);
    await this.inner.put(key, JSON.stringify(newer));
  }

  /** The unreadable catalog becomes readable again (a reader that knows its format). */
  private async upgradeReader(): Promise<void> {
    const [id, bytes] = [...this.faulted][0] ?? [];
    if (!id || !bytes) return;
    this.faulted.delete(id);
    await this.inner.put(Layout.catalog(SOURCE, id), bytes);
    this.trace.push(`readable again ${id}`);
  }

  /** A catalog as Lifeboat 0.1.0 wrote it (format 1): it must keep verifying and be retained alike. */
  private async writtenByOlderRelease(): Promise<void> {
    const candidates = this.alive().filter((id) => !this.faulted.has(id));
    if (candidates.length === 0) return;
    const id = this.pick(candidates);
    const key = Layout.catalog(SOURCE, id);
    const catalog = JSON.parse((await this.inner.get(key)).toString('utf8')) as Record<
      string,
      unknown
    >;
    if (catalog['formatVersion'] === undefined) return;
    delete catalog['formatVersion'];
    delete catalog['writtenBy'];
    // Format 1 had no point in time.
    delete catalog['revision'];
    for (const r of catalog['resources'] as Record<string, unknown>[]) delete r['atRevision'];
    catalog['apiVersion'] = 'lifeboat.dev/v1';
    catalog['digest'] = catalogDigest(catalog);
    await this.inner.put(key, JSON.stringify(catalog));
    this.trace.push(`format 1 ${id}`);
  }

  /** The invariant: every catalog retention has not expired verifies, packs and all. */
  private async check(when: string): Promise<void> {
    for await (const info of this.inner.list('backups/')) {
      const k = classifyKey(info.key);
      if (k.kind === 'backup' && k.file === 'catalog' && !this.known.has(k.backupId))
        this.known.set(k.backupId, 'alive');
    }
    for (const id of this.alive()) {
      if (this.faulted.has(id)) continue;
      this.summary.catalogs_checked += 1;
      try {
        await loadBackup(this.inner, SOURCE, id);
      } catch (error) {
        throw new DurabilityFailure(
          `after ${when}: backup ${id}, never expired by retention, is lost: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  /** A sampled backup restored into the target API server, compared with its catalog object for object. */
  private async restoreSample(): Promise<void> {
    const candidates = [];
    for (const id of this.alive()) {
      const c = await readCatalog(this.inner, SOURCE, id);
      if (c.phase === 'Completed' && c.counts.objects > 0) candidates.push(id);
    }
    if (candidates.length === 0) return;
    const backupId = this.pick(candidates);
    const mapped = `${this.ns}-r`;
    // The policies back up two resources only, so the namespace object itself is not in the backup.
    await create(this.options.target, R.namespaces, { metadata: { name: mapped } });
    const report = await runRestore(
      { http: this.options.target, store: this.inner },
      {
        restoreId: `${this.ns}-restore`,
        source: SOURCE,
        backupId,
        target: TARGET,
        options: restoreOptions({
          includeNamespaces: [this.ns],
          namespaceMapping: { [this.ns]: mapped },
        }),
      },
    );
    const failed = report.outcomes.filter((o) => o.outcome === 'failed');
    if (failed.length > 0)
      throw new DurabilityFailure(`restore of ${backupId} failed: ${JSON.stringify(failed)}`);
    const { records } = await loadBackup(this.inner, SOURCE, backupId);
    for (const record of records) {
      const ref = { ...record.ref, namespaced: true };
      const live = await get(this.options.target, ref, mapped, record.ref.name);
      const original = manifestOf(record, undefined);
      original.metadata.namespace = mapped;
      if (!live || !isDeepStrictEqual(comparable(live), comparable(original)))
        throw new DurabilityFailure(
          `restore of ${backupId}: ${record.ref.resource} ${record.ref.name} differs from the catalog`,
        );
    }
    this.summary.restores += 1;
  }
}
