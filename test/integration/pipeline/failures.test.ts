import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { segmentKey } from '../../../shared/backup/parts.js';
import { mapLimit } from '../../../shared/concurrency.js';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { API_VERSION } from '../../../shared/messages/index.js';
import { sweep } from '../../../shared/pipeline/retention.js';
import { loadBackup } from '../../../shared/catalog/load-backup.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { create, ensure, kubeHttp, list, R, waitFurnished } from '../../../local/kube-requests.js';
import { policy as testPolicy } from '../../../local/backup-fixture.js';
import {
  exportShardInProcess,
  finishBackup,
  runBackup,
  startBackup,
} from '../../../shared/backup/run-backup.js';
import { Inbox } from '../../../local/inbox.js';
import { waitEstablished } from '../../../shared/restore/apply-object.js';
import { seedWorkload, WIDGET_CRD } from '../../../local/sample-workload.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const TARGET = { project: 'local', location: 'local', name: 'target' };
type Msg = Record<string, unknown> & {
  backupId?: string;
  restoreId?: string;
  phase?: string;
  partKind?: string;
};

interface ProgressLine {
  msg?: string;
  backupId?: string;
  shardId?: string;
  resource?: string;
  objects?: number;
}

/** The progress lines an exportShard server has logged so far. */
function progressLines(logFile: string): ProgressLine[] {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('objects so far'))
    .map((line) => JSON.parse(line) as ProgressLine);
}

describe('the pipeline under failure: duplicate deliveries, a crash, a racing retention sweep', function () {
  this.timeout(300_000);
  let lb: LocalLifeboat;
  let completed: Inbox<Msg>;
  let restored: Inbox<Msg>;
  let parts: Inbox<Msg>;
  let pv: string;
  const policyName = unique('fail');
  const ns = unique('fail');
  const crashNs = unique('crash');

  const policy = (): object => ({
    name: policyName,
    projects: ['local'],
    clusterNames: ['source'],
    filters: { includeNamespaces: [ns] },
  });
  const crashPolicy = {
    ...policy(),
    name: `${policyName}-crash`,
    filters: { includeNamespaces: [crashNs] },
  };
  // Restores of the first backup, into a copy of its namespace on the target.
  const twicePlan = {
    name: unique('twice'),
    sourceClusters: [SOURCE],
    targetClusters: [TARGET],
    options: {
      namespaceMapping: { [ns]: `${ns}-twice` },
      excludeResources: ['customresourcedefinitions.*', 'clusterroles.*'],
    },
  };
  const tick = (time: string): object => ({
    apiVersion: API_VERSION,
    kind: 'ScheduleTick',
    scheduledTime: time,
    policy: policy(),
  });
  const idAt = (time: string): string =>
    `${policyName}-${time.slice(0, 10).replaceAll('-', '')}-${time.slice(11, 13)}${time.slice(14, 16)}`;

  before(async () => {
    lb = await startLocalLifeboat({
      deployment: { backupPolicies: [policy(), crashPolicy], restorePlans: [twicePlan] },
    });
    completed = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('backup-completed'),
      `${lb.topicPrefix}t-completed`,
    );
    restored = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('restore-completed'),
      `${lb.topicPrefix}t-restored`,
    );
    parts = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('backup-parts'),
      `${lb.topicPrefix}t-parts`,
    );
    ({ pv } = await seedWorkload(kubeHttp('source'), ns));
    // Restores below leave the CRD out; the target must serve it already.
    await ensure(kubeHttp('target'), R.crds, WIDGET_CRD);
    await waitEstablished(kubeHttp('target'), WIDGET_CRD.metadata.name);
    lb.compute.seedDisk({
      project: 'acme',
      zone: 'europe-west1-b',
      name: pv,
      sizeGb: 5,
      bytes: Buffer.from('bytes'),
    });
  });

  after(async () => {
    await Promise.all([completed?.close(), restored?.close(), parts?.close()]);
    await lb?.stop();
  });

  it('takes every message kind delivered twice without doing anything twice', async () => {
    const time = '2026-11-26T01:00:00Z';
    const backupId = idAt(time);
    await lb.bus.publish(lb.pipeline.topic('schedule'), tick(time));
    const first = await completed.waitFor(
      (m) => m.backupId === backupId,
      120_000,
      'the first BackupCompleted',
    );
    assert.equal(first.phase, 'Completed', JSON.stringify(first));
    const before = await readCatalog(lb.store, SOURCE, backupId);
    const snapshots = lb.compute.snapshotNames('acme').length;
    const job = {
      apiVersion: API_VERSION,
      kind: 'ClusterBackupJob',
      backupId,
      cluster: SOURCE,
      policy: policy(),
      scheduledTime: time,
    };
    const shard = before.packs[0]!;
    await Promise.all([
      lb.bus.publish(lb.pipeline.topic('schedule'), tick(time)),
      lb.bus.publish(lb.pipeline.topic('backup-jobs'), job),
      lb.bus.publish(lb.pipeline.topic('export-shards'), {
        ...job,
        kind: 'ExportShard',
        scheduledTime: undefined,
        shardId: shard.shardId,
        resource: shard.resource,
        segment: 0,
      }),
      lb.bus.publish(lb.pipeline.topic('disk-snapshots'), {
        ...job,
        kind: 'VolumeSnapshotJob',
        scheduledTime: undefined,
        pvName: pv,
      }),
      lb.bus.publish(lb.pipeline.topic('backup-parts'), {
        apiVersion: API_VERSION,
        kind: 'PartDone',
        backupId,
        cluster: SOURCE,
        partId: 'plan',
        partKind: 'plan',
        ok: true,
      }),
    ]);
    await new Promise((r) => setTimeout(r, 10_000));
    assert.equal(
      completed.count((m) => m.backupId === backupId),
      1,
      'announced once',
    );
    assert.equal(lb.compute.snapshotNames('acme').length, snapshots, 'no second snapshot');
    const after = await readCatalog(lb.store, SOURCE, backupId);
    assert.equal(after.digest, before.digest, 'the catalog is unchanged');

    const request = {
      apiVersion: API_VERSION,
      kind: 'RestoreRequest',
      restoreId: unique('twice'),
      plan: twicePlan.name,
      backup: { backupId, cluster: SOURCE },
      target: TARGET,
    };
    await lb.bus.publish(lb.pipeline.topic('restore'), request);
    await lb.bus.publish(lb.pipeline.topic('restore'), request);
    await restored.waitFor(
      (m) =>
        restored.count((x) => x.restoreId === request.restoreId) >= 2 &&
        m.restoreId === request.restoreId,
      120_000,
      'two answers',
    );
    for (const answer of restored.messages.filter((m) => m.restoreId === request.restoreId)) {
      assert.equal(answer.phase, 'Completed', JSON.stringify(answer));
    }
    assert.equal((await list(kubeHttp('target'), R.widgets, `${ns}-twice`)).length, 2);
    // Racing deliveries may both ask for the disk; the deterministic name leaves one.
    const disks = lb.compute.state.allDisks().filter((d) => d.address.name.startsWith('lbr-'));
    assert.equal(disks.length, 1, JSON.stringify(disks.map((d) => d.address.name)));
  });

  it('a function killed mid-shard is redelivered and the backup completes without duplicates or gaps', async () => {
    // Large ConfigMaps make one shard run for seconds, long enough to be killed inside it.
    const source = kubeHttp('source');
    await source.request('POST', '/api/v1/namespaces', { body: { metadata: { name: crashNs } } });
    const names = Array.from({ length: 3000 }, (_, i) => `big-${i}`);
    await mapLimit(names, 32, (name) =>
      source.request('POST', `/api/v1/namespaces/${crashNs}/configmaps`, {
        body: { metadata: { name }, data: { blob: `${name}:`.padEnd(8192, 'x') } },
      }),
    );
    const time = '2026-11-26T02:00:00Z';
    const backupId = `${policyName}-crash-20261126-0200`;
    const logFile = join(lb.pipeline.logDir, 'function-exportShard.log');
    const seenBefore = progressLines(logFile).length;
    await lb.bus.publish(lb.pipeline.topic('schedule'), { ...tick(time), policy: crashPolicy });

    // Kill the exportShard server as soon as the ConfigMap shard reports its first page.
    const deadline = Date.now() + 120_000;
    let started: ProgressLine | undefined;
    while (!started) {
      started = progressLines(logFile)
        .slice(seenBefore)
        .find((l) => l.backupId === backupId && l.resource === 'configmaps');
      if (!started && Date.now() > deadline) throw new Error('the ConfigMap shard never started');
      if (!started) await new Promise((r) => setTimeout(r, 20));
    }
    await lb.pipeline.kill('exportShard');
    const shardId = started.shardId!;
    assert.ok(
      started.objects! < names.length,
      `killed after ${started.objects} of ${names.length}`,
    );
    // The invocation really died half-way: its part was neither written nor announced.
    assert.equal(
      await lb.store.exists(segmentKey({ cluster: SOURCE, backupId }, shardId, 0)),
      false,
      'the killed shard wrote no part',
    );
    assert.equal(
      parts.count((m) => m.backupId === backupId && m['partId'] === `${shardId}/0`),
      0,
    );
    const linesAtKill = progressLines(logFile).length;

    await lb.pipeline.startFunction('exportShard');
    const done = await completed.waitFor(
      (m) => m.backupId === backupId,
      180_000,
      'BackupCompleted after the crash',
    );
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    // Pub/Sub redelivered the shard to the new process, which exported it from the start.
    assert.ok(
      progressLines(logFile)
        .slice(linesAtKill)
        .some((l) => l.backupId === backupId && l.shardId === shardId),
      'the redelivered shard ran again',
    );
    // No gaps, no duplicates: every ConfigMap exactly once, every digest verified by loadBackup.
    const { records } = await loadBackup(lb.store, SOURCE, backupId);
    const configMaps = records
      .filter((r) => r.ref.kind === 'ConfigMap' && r.ref.namespace === crashNs)
      .map((r) => r.ref.name)
      // kube-root-ca.crt is the namespace's own, made by the controllers.
      .filter((name) => name.startsWith('big-'))
      .sort();
    assert.deepEqual(configMaps, [...names].sort());
    const keys = records.map((r) => `${r.ref.resource}/${r.ref.namespace ?? ''}/${r.ref.name}`);
    assert.equal(new Set(keys).size, keys.length, 'no object twice');
    await source.request('DELETE', `/api/v1/namespaces/${crashNs}`);
  });

  it('a retention sweep racing a running backup deletes nothing that backup needs', async () => {
    // The race, made deterministic: backup B reads the packs it may reuse
    // from its base A; a newer backup C then pushes A beyond keep-last 1 and
    // a sweep expires A; B's shards then find the cluster as A had it, and
    // reuse A's packs without uploading them. Pack collection really runs
    // (no grace period), so a sweep that forgets B's base deletes them.
    const source = kubeHttp('source');
    const raceNs = unique('race');
    const settings = (value: string): object => ({
      metadata: { name: 'settings', namespace: raceNs },
      data: { value },
    });
    await create(source, R.namespaces, { metadata: { name: raceNs } });
    await waitFurnished(source, raceNs);
    await create(source, R.configmaps, settings('as in A'));
    const put = (value: string): Promise<unknown> =>
      source.request('PUT', `/api/v1/namespaces/${raceNs}/configmaps/settings`, {
        body: settings(value),
      });
    const racePolicy = testPolicy({
      name: unique('race'),
      keepLast: 1,
      filters: { includeNamespaces: [raceNs], includeClusterResources: 'off' },
    });
    const deps = { http: source, store: lb.store };
    const job = (
      backupId: string,
    ): { backupId: string; cluster: typeof SOURCE; policy: typeof racePolicy } => ({
      backupId,
      cluster: SOURCE,
      policy: racePolicy,
    });
    const [a, b, c] = [unique('race-a'), unique('race-b'), unique('race-c')];
    await runBackup(deps, job(a));
    const running = await startBackup(deps, job(b));
    assert.equal(running.plan.previousBackupId, a);
    assert.ok(running.known.size > 0, 'B reuses packs of A');
    await put('as in C');
    assert.equal((await runBackup(deps, job(c))).catalog.phase, 'Completed');
    await put('as in A');
    const orphan = Layout.pack('0'.repeat(64));
    await lb.store.put(orphan, 'a pack no backup references');

    const report = await sweep(lb.store, undefined, { packGraceMs: 0 });
    assert.ok(
      report.expired.some((e) => e.backupId === a),
      `A expired: ${JSON.stringify(report.expired)}`,
    );
    assert.equal(await lb.store.exists(orphan), false, 'pack collection ran');
    assert.deepEqual(report.unrestorable, []);

    for (const shard of running.plan.shards) await exportShardInProcess(deps, running, shard);
    const catalog = await finishBackup(deps, job(b));
    assert.equal(catalog.phase, 'Completed', catalog.errors.join('; '));
    const reused = catalog.packs.filter((p) => running.known.has(p.digest));
    assert.ok(reused.length > 0, 'B lists packs it did not upload');
    const { records } = await loadBackup(lb.store, SOURCE, b); // every pack present and verified
    const cm = records.find((r) => r.ref.kind === 'ConfigMap' && r.ref.name === 'settings');
    assert.deepEqual(cm?.object?.['data'], { value: 'as in A' });
    // B was planned before C, so by the time its data was taken it is the older of the two:
    // keep-last 1 now expires it, and C, the newest, stays whole.
    const after = await sweep(lb.store, undefined, { packGraceMs: 0 });
    assert.deepEqual(after.unrestorable, []);
    assert.ok(after.expired.some((e) => e.backupId === b));
    await loadBackup(lb.store, SOURCE, c);
    await source.request('DELETE', `/api/v1/namespaces/${raceNs}`);
  });
});
