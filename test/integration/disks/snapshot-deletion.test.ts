import { strict as assert } from 'node:assert';
import { Deadline } from '../../../shared/time/deadline.js';
import type { SnapshotDeletionOutcome } from '../../../shared/disks/disk-snapshotter.js';
import { BACKUP_LABEL, GceSnapshotter } from '../../../shared/disks/gce-snapshotter.js';
import { ComputeStandin } from '../../../local/standins/compute/server.js';

type Failed = Extract<SnapshotDeletionOutcome, { status: 'FAILED' }>;

/**
 * The retention sweep's deleteSnapshot: the real @google-cloud/compute
 * client against the Compute Engine stand-in, on snapshots Lifeboat made
 * through snapshotDisk and on snapshots someone else made.
 */
describe('GceSnapshotter.deleteSnapshot against the Compute Engine stand-in', () => {
  let standin: ComputeStandin;
  let snapshotter: GceSnapshotter;
  const project = 'prod-project';
  const cluster = { project, location: 'us-central1', name: 'shop' };
  const zonal = { project, zone: 'us-central1-a', name: 'pvc-0a1b2c3d' };

  before(async () => {
    standin = await ComputeStandin.start();
    snapshotter = new GceSnapshotter({ client: standin.clientOptions(), pollIntervalMs: 5 });
  });
  after(async () => {
    await snapshotter.close();
    await standin.stop();
  });
  beforeEach(() => {
    standin.clearFaults();
    standin.resetCounts();
    standin.seedDisk({ ...zonal, sizeGb: 20, type: 'pd-ssd', bytes: Buffer.from('orders') });
  });

  /** A snapshot made the way a backup makes one: labelled, READY. */
  async function lifeboatSnapshot(backupId: string): Promise<{ project: string; name: string }> {
    const outcome = await snapshotter.snapshotDisk({
      backupId,
      cluster,
      disk: zonal,
      deadline: Deadline.after(10_000),
    });
    assert.equal(outcome.status, 'READY', outcome.status === 'FAILED' ? outcome.reason : '');
    if (outcome.status !== 'READY') throw new Error('unreachable');
    assert.ok(standin.hasSnapshot(project, outcome.snapshot.name));
    standin.resetCounts();
    return outcome.snapshot;
  }

  function failed(outcome: SnapshotDeletionOutcome): Failed {
    assert.equal(outcome.status, 'FAILED', `expected FAILED, got ${outcome.status}`);
    return outcome as Failed;
  }

  it('deletes a snapshot Lifeboat made, waiting for the global operation until DONE', async () => {
    const snapshot = await lifeboatSnapshot('sweep-1');
    const outcome = await snapshotter.deleteSnapshot(snapshot, Deadline.after(10_000));
    assert.deepEqual(outcome, { status: 'DELETED' }, JSON.stringify(outcome));
    assert.equal(standin.hasSnapshot(project, snapshot.name), false);
    assert.equal(standin.state.deleted.snapshots, 1);
    assert.equal(standin.callCount('snapshots.get'), 1, 'looked at the labels first');
    assert.equal(standin.callCount('snapshots.delete'), 1);
    // PENDING -> RUNNING -> DONE, each step one look through globalOperations.wait.
    assert.ok(standin.callCount('globalOperations.wait') >= 2, JSON.stringify(standin.calls()));
    assert.equal(standin.callCount('unsupported'), 0);
  });

  it('answers ABSENT for a snapshot that is already gone, without trying to delete it', async () => {
    const snapshot = await lifeboatSnapshot('sweep-2');
    assert.equal(
      (await snapshotter.deleteSnapshot(snapshot, Deadline.after(10_000))).status,
      'DELETED',
    );
    standin.resetCounts();
    const again = await snapshotter.deleteSnapshot(snapshot, Deadline.after(10_000));
    assert.deepEqual(again, { status: 'ABSENT' });
    assert.equal(standin.callCount('snapshots.delete'), 0);
    const never = await snapshotter.deleteSnapshot(
      { project, name: 'lb-never-made-0000' },
      Deadline.after(10_000),
    );
    assert.deepEqual(never, { status: 'ABSENT' });
  });

  it('refuses to delete a snapshot without the lifeboat-backup label', async () => {
    standin.seedSnapshot({ project, name: 'nightly-db', labels: { team: 'data' } });
    standin.seedSnapshot({ project, name: 'golden-image-src' });
    for (const name of ['nightly-db', 'golden-image-src']) {
      const outcome = failed(
        await snapshotter.deleteSnapshot({ project, name }, Deadline.after(10_000)),
      );
      assert.match(
        outcome.reason,
        new RegExp(`snapshot projects/${project}/global/snapshots/${name}`),
      );
      assert.match(outcome.reason, /not made by Lifeboat/);
      assert.match(outcome.reason, new RegExp(`no ${BACKUP_LABEL} label`));
      assert.equal(outcome.retryable, false);
      assert.ok(standin.hasSnapshot(project, name), `${name} is still there`);
    }
    assert.equal(standin.callCount('snapshots.delete'), 0, 'no delete was even attempted');
  });

  it('fails with the operation error and keeps the snapshot when the operation fails', async () => {
    const snapshot = await lifeboatSnapshot('sweep-operr');
    standin.setFaults({
      operationError: {
        code: 'RESOURCE_OPERATION_RATE_EXCEEDED',
        message: 'Operation rate exceeded for resource',
        httpStatus: 403,
      },
    });
    const outcome = failed(await snapshotter.deleteSnapshot(snapshot, Deadline.after(10_000)));
    assert.match(
      outcome.reason,
      new RegExp(
        `snapshot projects/${project}/global/snapshots/${snapshot.name}: operation operation-\\S+ failed: RESOURCE_OPERATION_RATE_EXCEEDED: Operation rate exceeded for resource`,
      ),
    );
    assert.equal(outcome.retryable, true, 'a rate limit passes on a later sweep');
    assert.equal(standin.callCount('snapshots.delete'), 1);
    assert.equal(standin.state.snapshotRecord(project, snapshot.name)?.status, 'READY');

    standin.clearFaults();
    const retried = await snapshotter.deleteSnapshot(snapshot, Deadline.after(10_000));
    assert.deepEqual(retried, { status: 'DELETED' });
  });

  it('fails, retryable, when the delete operation is still RUNNING at the deadline', async () => {
    const snapshot = await lifeboatSnapshot('sweep-slow');
    standin.setFaults({ operationStuckRunning: true });
    const started = Date.now();
    const outcome = failed(await snapshotter.deleteSnapshot(snapshot, Deadline.after(300)));
    assert.match(outcome.reason, /operation operation-\S+ still RUNNING after 300ms/);
    assert.equal(outcome.retryable, true);
    assert.ok(Date.now() - started < 5000, 'gave up at the deadline');
    assert.ok(standin.callCount('globalOperations.wait') > 2);
  });

  it('fails, retryable, while a disk is being restored from the snapshot', async () => {
    const snapshot = await lifeboatSnapshot('sweep-inuse');
    const restoring = { project, zone: 'europe-west1-b', name: 'restored-data' };
    // A restore caught mid-way: the disk exists, CREATING, its operation not yet looked at.
    standin.state.insertDisk(
      project,
      { zone: restoring.zone },
      {
        name: restoring.name,
        sourceSnapshot: `projects/${project}/global/snapshots/${snapshot.name}`,
      },
    );
    const outcome = failed(await snapshotter.deleteSnapshot(snapshot, Deadline.after(10_000)));
    assert.match(outcome.reason, /: in use: /);
    assert.match(
      outcome.reason,
      /is already being used by 'projects\/prod-project\/zones\/europe-west1-b\/disks\/restored-data'/,
    );
    assert.match(outcome.reason, /HTTP 400/);
    assert.equal(outcome.retryable, true);
    assert.ok(standin.hasSnapshot(project, snapshot.name));

    // Once the disk is made, the snapshot may go; the disk keeps its bytes.
    standin.state.getDisk(restoring);
    standin.state.getDisk(restoring);
    assert.equal(standin.state.diskRecord(restoring)?.status, 'READY');
    const later = await snapshotter.deleteSnapshot(snapshot, Deadline.after(10_000));
    assert.deepEqual(later, { status: 'DELETED' });
    assert.deepEqual(standin.readDisk(restoring), Buffer.from('orders'));
  });

  it('fails without calling the API for a name no snapshot can have, or a spent deadline', async () => {
    const bad = failed(
      await snapshotter.deleteSnapshot({ project, name: '../disks/x' }, Deadline.after(10_000)),
    );
    assert.match(bad.reason, /not a snapshot name/);
    assert.equal(bad.retryable, false);
    const late = failed(
      await snapshotter.deleteSnapshot({ project, name: 'lb-x-00000000' }, Deadline.after(0)),
    );
    assert.match(late.reason, /deadline \(0s\) passed before the delete began/);
    assert.equal(late.retryable, true);
    assert.equal(standin.callCount('snapshots.get'), 0);
    assert.equal(standin.callCount('snapshots.delete'), 0);
  });
});
