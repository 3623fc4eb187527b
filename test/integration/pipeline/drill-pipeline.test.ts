import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Subscription } from '../../../shared/bus/bus.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { labelValue } from '../../../shared/disks/names.js';
import { RESTORE_DISK_LABEL } from '../../../shared/drill/drill-disks.js';
import { drillPrefix, drillRestoreId } from '../../../shared/drill/drill-names.js';
import { readDrillReport } from '../../../shared/drill/drill-store.js';
import { resourcePath } from '../../../shared/kube/kube-http.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';
import { API_VERSION, parseMessage, type DrillCompleted } from '../../../shared/messages/index.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { create, kubeHttp, list, R, waitBound } from '../../../local/kube-requests.js';
import { Inbox } from '../../../local/inbox.js';
import { seedVolumes, type SeededVolume } from '../../support/volumes.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const TARGET = { project: 'local', location: 'local', name: 'target' };
const MINUTE = 60_000;

type Msg = Record<string, unknown> & { backupId?: string; phase?: string };

/**
 * A restore drill through the deployed pipeline on the local cloud: a
 * scheduled backup of a namespace with volume data (disks at the Compute
 * stand-in), then the drill policy's scheduled DrillJob (the body Cloud
 * Scheduler publishes: no cluster, a fixed id), which the drill function
 * turns into a drill of the cluster's latest backup into the target
 * cluster. The drill passes with its RTO, DrillCompleted says so (with the
 * verdict as an attribute, for a pager's filter), its report is beside the
 * backup, and every object and disk it made is gone afterwards, checked in
 * the API server and at the Compute stand-in.
 */
describe('a scheduled restore drill through the pipeline', function () {
  this.timeout(10 * MINUTE);
  let lb: LocalLifeboat;
  let completed: Inbox<Msg>;
  let drills: { message: DrillCompleted; attributes: Record<string, string> }[];
  let drillSubscription: Subscription | undefined;
  let volumes: SeededVolume[];
  let backupId: string;
  const ns = unique('drilled');
  const policy = {
    name: ns,
    projects: ['local'],
    clusterNames: ['source'],
    filters: { includeNamespaces: [ns] },
  };
  const drillPolicy = {
    name: unique('drill'),
    projects: ['local'],
    clusterNames: ['source'],
    backupPolicies: [policy.name],
    drillCluster: TARGET,
    namespaces: [ns],
    timeoutSeconds: 300,
  };

  before(async () => {
    lb = await startLocalLifeboat({
      functions: [
        'enumerateClusters',
        'exportManifests',
        'exportShard',
        'snapshotDisks',
        'emitCatalog',
        'drill',
      ],
      deployment: { backupPolicies: [policy], drillPolicies: [drillPolicy] },
    });
    completed = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('backup-completed'),
      `${lb.topicPrefix}t-completed`,
    );
    drills = [];
    drillSubscription = await lb.bus.subscribe(
      lb.pipeline.topic('drill-completed'),
      `${lb.topicPrefix}t-drills`,
      async (d) => {
        drills.push({
          message: parseMessage('DrillCompleted', JSON.parse(d.data.toString('utf8'))),
          attributes: d.attributes,
        });
      },
    );
    const source = kubeHttp('source');
    volumes = await seedVolumes(source, lb.compute, {
      ns,
      count: 2,
      csiProject: 'acme',
      clusterProject: SOURCE.project,
    });
    for (const v of volumes) await waitBound(source, v.pv, ns, v.claim);
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns },
      data: { mode: 'production' },
    });
  });

  after(async () => {
    await Promise.all([completed?.close(), drillSubscription?.close()]);
    await lb?.stop();
  });

  it('backs up the namespace and its volumes on schedule', async () => {
    await lb.bus.publish(lb.pipeline.topic('schedule'), {
      apiVersion: API_VERSION,
      kind: 'ScheduleTick',
      scheduledTime: '2026-11-30T05:00:00Z',
      policy,
    });
    const done = await completed.waitFor(
      (m) => String(m.backupId).startsWith(`${ns}-`),
      5 * MINUTE,
      'BackupCompleted',
    );
    assert.equal(done.phase, 'Completed', JSON.stringify(done).slice(0, 2000));
    backupId = String(done.backupId);
  });

  it('drills it on schedule into the drill cluster: passed, with its RTO, and nothing left behind', async () => {
    assert.ok(backupId, 'the backup above');
    const disksBefore = lb.compute.state.deleted.disks;
    // What the drill policy's Cloud Scheduler job publishes (infra/scheduler.tf).
    await lb.bus.publish(lb.pipeline.topic('drill'), {
      apiVersion: API_VERSION,
      kind: 'DrillJob',
      drillId: 'scheduled',
      policy: drillPolicy,
    });
    const deadline = Date.now() + 5 * MINUTE;
    while (drills.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    assert.equal(drills.length, 1, 'one DrillCompleted: one cluster selected');
    const { message: done, attributes } = drills[0]!;
    const detail = JSON.stringify(done);
    assert.notEqual(done.drillId, 'scheduled', 'the drill has an id of its own');
    assert.deepEqual(done.source, SOURCE);
    assert.deepEqual(done.drillCluster, TARGET);
    assert.equal(done.backupId, backupId, 'the latest backup was drilled');
    assert.equal(done.verdict, 'passed', detail);
    assert.deepEqual(done.reasons, [], detail);
    assert.deepEqual(done.leftBehind, [], detail);
    assert.ok(done.rtoSeconds !== undefined && done.rtoSeconds > 0, `an RTO: ${detail}`);
    assert.equal(attributes['verdict'], 'passed');
    console.log(`      drill ${done.drillId}: ${done.verdict}, RTO ${done.rtoSeconds} s`);

    // The report, beside the backup, found by the drill's id too.
    assert.equal(done.reportKey, Layout.drillReport(SOURCE, backupId, done.drillId));
    const report = await readDrillReport(lb.store, done.drillId);
    assert.equal(report.verdict, 'passed');
    assert.equal(report.rtoSeconds, done.rtoSeconds);
    assert.deepEqual(report.namespaces, { [ns]: `${drillPrefix(done.drillId)}${ns}` });
    assert.ok(report.objects.compared > 0, 'objects were compared with the catalog');
    assert.equal(report.objects.equal, report.objects.compared, JSON.stringify(report.objects));
    assert.equal(report.volumes.length, volumes.length, JSON.stringify(report.volumes));
    assert.ok(
      report.volumes.every((v) => v.bound),
      `every claim bound to its restored disk: ${JSON.stringify(report.volumes)}`,
    );
    assert.equal(report.cleanup.disksDeleted, volumes.length, 'one disk per volume, deleted');

    // Nothing of the drill is left: no namespace with its prefix, no object with its label,
    // no disk made by its restore.
    const target = kubeHttp('target');
    const namespaces = (await list(target, R.namespaces)).map((n) => n.metadata.name);
    assert.deepEqual(
      namespaces.filter((n) => n.startsWith(drillPrefix(done.drillId))),
      [],
      'no drill namespace left',
    );
    for (const ref of [R.namespaces, R.pvs]) {
      const labelled = await target.request<{ items: KubeObject[] }>('GET', resourcePath(ref), {
        query: { labelSelector: `lifeboat.dev/restore=${drillRestoreId(done.drillId)}` },
      });
      assert.deepEqual(
        labelled.items.map((o) => o.metadata.name),
        [],
        `no ${ref.resource} of the drill left`,
      );
    }
    const restoreLabel = labelValue(drillRestoreId(done.drillId));
    const made = lb.compute.state
      .allDisks()
      .filter((d) => d.labels[RESTORE_DISK_LABEL] === restoreLabel);
    assert.deepEqual(
      made.map((d) => d.address.name),
      [],
      'no disk of the drill left at Compute',
    );
    assert.equal(
      lb.compute.state.deleted.disks - disksBefore,
      volumes.length,
      'the drill deleted the disks it made through the API',
    );
    // The source cluster was only read.
    const sourceNamespaces = (await list(kubeHttp('source'), R.namespaces)).map(
      (n) => n.metadata.name,
    );
    assert.deepEqual(
      sourceNamespaces.filter((n) => n.startsWith('drill-')),
      [],
      'nothing written to the source',
    );
  });

  it('refuses a drill job whose drill cluster is not the deployed one, writing nothing', async () => {
    const before = drills.length;
    const drillId = 'refused1';
    await lb.bus.publish(lb.pipeline.topic('drill'), {
      apiVersion: API_VERSION,
      kind: 'DrillJob',
      drillId,
      policy: { ...drillPolicy, drillCluster: SOURCE },
      cluster: SOURCE,
    });
    // The refusal is logged and the message acknowledged; nothing is drilled, nothing announced.
    const log = join(lb.pipeline.logDir, 'function-drill.log');
    const deadline = Date.now() + MINUTE;
    while (!/differs from the deployed one in drillCluster/.test(readFileSync(log, 'utf8'))) {
      assert.ok(Date.now() < deadline, 'the drill function logs why it refused');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(drills.length, before, 'no DrillCompleted for a refused job');
    for (const cluster of ['source', 'target'] as const) {
      const names = (await list(kubeHttp(cluster), R.namespaces)).map((n) => n.metadata.name);
      assert.deepEqual(
        names.filter((n) => n.startsWith(drillPrefix(drillId))),
        [],
        `nothing drilled into ${cluster}`,
      );
    }
  });
});
