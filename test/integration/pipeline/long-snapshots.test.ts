import { strict as assert } from 'node:assert';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import type { VolumeEntry } from '../../../shared/catalog/catalog-schema.js';
import { GceSnapshotter } from '../../../shared/disks/gce-snapshotter.js';
import { snapshotNameFor } from '../../../shared/disks/names.js';
import { API_VERSION } from '../../../shared/messages/index.js';
import { sweep } from '../../../shared/pipeline/retention.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { kubeHttp } from '../../../local/kube-requests.js';
import { Inbox } from '../../../local/inbox.js';
import { seedVolumes, type SeededVolume } from '../../support/volumes.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
/** Each invocation's budget: a snapshot that uploads for 25 s outlasts two or more of them. */
const WORK_BUDGET_MS = 8000;
const DAY = 86_400_000;

type Msg = Record<string, unknown> & {
  backupId?: string;
  phase?: string;
  pvName?: string;
  handovers?: number;
  firstAttemptAt?: string;
  errors?: string[];
};

/**
 * Long snapshots through the functions on the Pub/Sub emulator, each
 * invocation with a small work budget: a snapshot that uploads for longer
 * than two invocations is handed over and adopted until READY; a snapshot
 * whose insert fails transiently twice is tried again (in the invocation,
 * then after a handover) and ends READY; one that outlasts the policy's
 * snapshotTimeoutSeconds ends FAILED and still names its snapshot, which
 * the retention sweep deletes with the backup.
 */
describe('long snapshots are a phase, not a failure', function () {
  this.timeout(300_000);
  let lb: LocalLifeboat;
  let completed: Inbox<Msg>;
  let jobs: Inbox<Msg>;
  const cases = {
    slow: { ns: unique('slow'), timeout: 120 },
    flaky: { ns: unique('flaky'), timeout: 120 },
    late: { ns: unique('late'), timeout: 10 },
  };
  const policyOf = (c: { ns: string; timeout: number }): object => ({
    name: c.ns,
    projects: ['local'],
    clusterNames: ['source'],
    filters: { includeNamespaces: [c.ns] },
    snapshotTimeoutSeconds: c.timeout,
  });
  const volumes = new Map<string, SeededVolume>();
  let lateBackup: { backupId: string; name: string } | undefined;

  before(async () => {
    lb = await startLocalLifeboat({
      workBudgetMs: WORK_BUDGET_MS,
      functions: [
        'enumerateClusters',
        'exportManifests',
        'exportShard',
        'snapshotDisks',
        'emitCatalog',
      ],
      deployment: { backupPolicies: Object.values(cases).map(policyOf) },
    });
    completed = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('backup-completed'),
      `${lb.topicPrefix}t-completed`,
    );
    jobs = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('disk-snapshots'),
      `${lb.topicPrefix}t-jobs`,
    );
    for (const c of Object.values(cases)) {
      const [volume] = await seedVolumes(kubeHttp('source'), lb.compute, {
        ns: c.ns,
        count: 1,
        csiProject: 'acme',
        clusterProject: SOURCE.project,
      });
      volumes.set(c.ns, volume!);
    }
  });

  after(async () => {
    await Promise.all([completed?.close(), jobs?.close()]);
    await lb?.stop();
  });

  /** Ticks the case's policy and waits for its BackupCompleted. */
  async function backUp(c: { ns: string; timeout: number }, time: string): Promise<Msg> {
    await lb.bus.publish(lb.pipeline.topic('schedule'), {
      apiVersion: API_VERSION,
      kind: 'ScheduleTick',
      scheduledTime: time,
      policy: policyOf(c),
    });
    return completed.waitFor(
      (m) => String(m.backupId).startsWith(`${c.ns}-`),
      240_000,
      `BackupCompleted of ${c.ns}`,
    );
  }

  async function volumeOf(backupId: string): Promise<VolumeEntry> {
    const catalog = await readCatalog(lb.store, SOURCE, backupId);
    assert.equal(catalog.volumes.length, 1, JSON.stringify(catalog.volumes));
    return catalog.volumes[0]!;
  }

  it('fails a snapshot still uploading after snapshotTimeoutSeconds, and names it', async () => {
    const c = cases.late;
    const volume = volumes.get(c.ns)!;
    lb.compute.setFaults({ snapshotUploadMs: 10 * 60_000 });
    let done: Msg;
    try {
      done = await backUp(c, '2026-11-30T02:50:00Z');
    } finally {
      lb.compute.clearFaults();
    }
    assert.equal(done.phase, 'PartiallyFailed', JSON.stringify(done));
    const backupId = String(done.backupId);
    const entry = await volumeOf(backupId);
    const name = snapshotNameFor(backupId, volume.disk);
    assert.equal(entry.status, 'FAILED');
    assert.match(entry.reason ?? '', /still UPLOADING after 10s/);
    assert.deepEqual(entry.snapshot, { project: 'acme', name }, 'the FAILED entry names it');
    assert.ok(lb.compute.hasSnapshot('acme', name));
    lateBackup = { backupId, name };
  });

  it('hands a snapshot still uploading past two invocation budgets over until it is READY', async () => {
    const c = cases.slow;
    const volume = volumes.get(c.ns)!;
    lb.compute.setFaults({ snapshotUploadMs: 25_000 });
    const inserts = lb.compute.callCount('snapshots.insert');
    let done: Msg;
    try {
      done = await backUp(c, '2026-11-30T03:00:00Z');
    } finally {
      lb.compute.clearFaults();
    }
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    const backupId = String(done.backupId);
    const entry = await volumeOf(backupId);
    assert.equal(entry.status, 'READY', JSON.stringify(entry));
    const name = snapshotNameFor(backupId, volume.disk);
    assert.deepEqual(
      { project: entry.snapshot?.project, name: entry.snapshot?.name },
      { project: 'acme', name },
    );
    assert.equal(
      lb.compute.callCount('snapshots.insert') - inserts,
      1,
      'adopted, never taken twice',
    );
    const handedOver = jobs.messages.filter((m) => m.backupId === backupId && m.handovers);
    const counts = handedOver.map((m) => m.handovers).sort();
    console.log(`      ${handedOver.length} handovers of ${volume.pv}: ${JSON.stringify(counts)}`);
    assert.ok(handedOver.length >= 2, `handed over at least twice: ${JSON.stringify(counts)}`);
    assert.equal(
      new Set(handedOver.map((m) => m.firstAttemptAt)).size,
      1,
      'every handover counts from the same first attempt',
    );
  });

  it('retries a snapshot whose insert fails transiently twice (503), and it ends READY', async () => {
    const c = cases.flaky;
    const volume = volumes.get(c.ns)!;
    const inserts = lb.compute.callCount('snapshots.insert');
    lb.compute.failNext('snapshots.insert', 2);
    const done = await backUp(c, '2026-11-30T03:10:00Z');
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    assert.equal(lb.compute.pendingFailures('snapshots.insert'), 0, 'both failures were met');
    assert.equal(lb.compute.callCount('snapshots.insert') - inserts, 3, 'two failed, one taken');
    const backupId = String(done.backupId);
    const entry = await volumeOf(backupId);
    assert.equal(entry.status, 'READY', JSON.stringify(entry));
    assert.equal(entry.snapshot?.name, snapshotNameFor(backupId, volume.disk));
  });

  it('deletes the snapshot of that FAILED volume with its backup, once it is READY', async () => {
    // The oldest backup of the cluster, and not Completed: retention expires it.
    assert.ok(lateBackup, 'the FAILED backup above');
    const { backupId, name } = lateBackup;
    // Later it finishes uploading; once the backup expires, retention deletes it with the backup.
    const record = lb.compute.state.snapshotRecord('acme', name)!;
    record.readyAt = Date.now();
    const snapshotter = new GceSnapshotter({
      client: lb.compute.clientOptions(),
      pollIntervalMs: 20,
    });
    try {
      lb.compute.state.getSnapshot('acme', name); // the stand-in moves UPLOADING -> READY on a look
      const report = await sweep(lb.store, snapshotter, { now: Date.now() + 40 * DAY });
      assert.ok(
        report.expired.some((e) => e.backupId === backupId),
        JSON.stringify(report.expired),
      );
      assert.ok(
        report.deletedSnapshots.includes(`acme/${name}`),
        `deleted: ${JSON.stringify(report.deletedSnapshots)}; errors: ${JSON.stringify(report.errors)}`,
      );
      assert.equal(lb.compute.hasSnapshot('acme', name), false);
    } finally {
      await snapshotter.close();
    }
  });
});
