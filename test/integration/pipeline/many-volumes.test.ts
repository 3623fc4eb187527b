import { strict as assert } from 'node:assert';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { API_VERSION } from '../../../shared/messages/index.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { Inbox } from '../../../local/inbox.js';
import { seedVolumes, type SeededVolume } from '../../support/volumes.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const TARGET = { project: 'local', location: 'local', name: 'target' };
const VOLUMES = 300;
const MINUTE = 60_000;

type Msg = Record<string, unknown> & {
  backupId?: string;
  restoreId?: string;
  phase?: string;
  errors?: string[];
};

/**
 * Scale: a cluster with 300 persistent volumes, half PD CSI and half
 * in-tree gcePersistentDisk, every disk held by the Compute stand-in, is
 * backed up through the pipeline (one snapshotDisks invocation per volume)
 * and restored through it into the target cluster. Prints how long each
 * took; asserts that every volume was captured and every one restored.
 */
describe('a cluster with 300 persistent volumes, backed up and restored through the pipeline', function () {
  this.timeout(45 * MINUTE);
  let lb: LocalLifeboat;
  let completed: Inbox<Msg>;
  let restored: Inbox<Msg>;
  let volumes: SeededVolume[];
  let backupId: string;
  const ns = unique('many');
  const policy = {
    name: ns,
    projects: ['local'],
    clusterNames: ['source'],
    filters: { includeNamespaces: [ns] },
  };
  const plan = {
    name: unique('many-copy'),
    sourceClusters: [SOURCE],
    targetClusters: [TARGET],
    options: { includeNamespaces: [ns] },
  };

  before(async () => {
    lb = await startLocalLifeboat({
      functions: [
        'enumerateClusters',
        'exportManifests',
        'exportShard',
        'snapshotDisks',
        'emitCatalog',
        'restore',
      ],
      deployment: { backupPolicies: [policy], restorePlans: [plan] },
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
    volumes = await seedVolumes(kubeHttp('source'), lb.compute, {
      ns,
      count: VOLUMES,
      csiProject: 'acme',
      clusterProject: SOURCE.project,
    });
  });

  after(async () => {
    await Promise.all([completed?.close(), restored?.close()]);
    await lb?.stop();
  });

  it('backs up all 300 volumes, CSI and in-tree', async () => {
    const started = Date.now();
    await lb.bus.publish(lb.pipeline.topic('schedule'), {
      apiVersion: API_VERSION,
      kind: 'ScheduleTick',
      scheduledTime: '2026-11-30T04:00:00Z',
      policy,
    });
    const done = await completed.waitFor(
      (m) => String(m.backupId).startsWith(`${ns}-`),
      30 * MINUTE,
      'BackupCompleted',
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`      backup of ${VOLUMES} volumes: ${seconds.toFixed(1)} s (${done.phase})`);
    assert.equal(done.phase, 'Completed', JSON.stringify(done).slice(0, 2000));
    backupId = String(done.backupId);
    const catalog = await readCatalog(lb.store, SOURCE, backupId);
    assert.equal(catalog.volumes.length, VOLUMES);
    assert.deepEqual(
      catalog.volumes.filter((v) => v.status !== 'READY' || !v.snapshot).map((v) => v.pvName),
      [],
    );
    const drivers = new Set(catalog.volumes.map((v) => v.driver));
    assert.deepEqual([...drivers].sort(), ['kubernetes.io/gce-pd', 'pd.csi.storage.gke.io']);
  });

  it('restores all 300 into the target cluster, each claim bound to a disk made from its snapshot', async () => {
    assert.ok(backupId, 'the backup above');
    const restoreId = unique('many-restore');
    const started = Date.now();
    await lb.bus.publish(lb.pipeline.topic('restore'), {
      apiVersion: API_VERSION,
      kind: 'RestoreRequest',
      restoreId,
      plan: plan.name,
      backup: { backupId, cluster: SOURCE },
      target: TARGET,
    });
    const done = await restored.waitFor(
      (m) => m.restoreId === restoreId,
      40 * MINUTE,
      'RestoreCompleted',
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`      restore of ${VOLUMES} volumes: ${seconds.toFixed(1)} s (${done.phase})`);
    assert.equal(done.phase, 'Completed', JSON.stringify(done).slice(0, 2000));
    const target = kubeHttp('target');
    const claims = await list(target, R.pvcs, ns);
    assert.equal(claims.length, VOLUMES);
    // Two of them, one of each kind, read back through their restored disks.
    for (const v of [volumes[0]!, volumes[1]!]) {
      const pvc = await get(target, R.pvcs, ns, v.claim);
      const volumeName = (pvc?.['spec'] as { volumeName?: string }).volumeName;
      assert.ok(volumeName, `claim ${v.claim} names its restored volume`);
      const pv = await get(target, R.pvs, undefined, volumeName);
      const spec = pv?.['spec'] as {
        csi?: { volumeHandle: string };
        gcePersistentDisk?: { pdName: string };
      };
      const restoredDisks = lb.compute.state
        .allDisks()
        .filter((d) => d.sourceSnapshot && d.address.name === diskNameOf(spec));
      assert.equal(restoredDisks.length, 1, `the disk of ${v.pv}: ${JSON.stringify(spec)}`);
      assert.equal(restoredDisks[0]!.bytes.toString(), `the data of ${v.disk.name}`);
    }
    const made = lb.compute.state.allDisks().filter((d) => d.sourceSnapshot).length;
    assert.equal(made, VOLUMES, 'one disk per volume, made from its snapshot');
  });
});

function diskNameOf(spec: {
  csi?: { volumeHandle: string };
  gcePersistentDisk?: { pdName: string };
}): string {
  if (spec.gcePersistentDisk) return spec.gcePersistentDisk.pdName;
  return (spec.csi?.volumeHandle ?? '').split('/').at(-1) ?? '';
}
