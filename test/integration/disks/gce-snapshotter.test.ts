import { strict as assert } from 'node:assert';
import { Deadline } from '../../../shared/time/deadline.js';
import type { SnapshotOutcome, SnapshotRequest } from '../../../shared/disks/disk-snapshotter.js';
import { GceSnapshotter } from '../../../shared/disks/gce-snapshotter.js';
import { snapshotNameFor } from '../../../shared/disks/names.js';
import { ComputeStandin } from '../../../local/standins/compute/server.js';

/** The real @google-cloud/compute client against the Compute Engine stand-in. */
describe('GceSnapshotter against the Compute Engine stand-in', () => {
  let standin: ComputeStandin;
  let snapshotter: GceSnapshotter;
  const cluster = { project: 'prod-project', location: 'us-central1', name: 'shop' };
  const zonal = { project: 'prod-project', zone: 'us-central1-a', name: 'pvc-0a1b2c3d' };
  const data = Buffer.from('mysql ibdata1: 42 orders');

  const request = (overrides: Partial<SnapshotRequest> = {}): SnapshotRequest => ({
    backupId: 'nightly-20261126',
    cluster,
    disk: zonal,
    pvc: { namespace: 'shop', name: 'data-mysql-0' },
    deadline: Deadline.after(10_000),
    ...overrides,
  });

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
    standin.seedDisk({ ...zonal, sizeGb: 20, type: 'pd-ssd', bytes: data });
  });

  function ready(outcome: SnapshotOutcome): Extract<SnapshotOutcome, { status: 'READY' }> {
    assert.equal(outcome.status, 'READY', outcome.status === 'FAILED' ? outcome.reason : '');
    return outcome as Extract<SnapshotOutcome, { status: 'READY' }>;
  }

  function failed(outcome: SnapshotOutcome): Extract<SnapshotOutcome, { status: 'FAILED' }> {
    assert.equal(outcome.status, 'FAILED', 'expected the snapshot to fail');
    return outcome as Extract<SnapshotOutcome, { status: 'FAILED' }>;
  }

  it('snapshots a zonal disk, waits for the operation and for READY, with labels and options', async () => {
    const outcome = ready(
      await snapshotter.snapshotDisk(
        request({
          backupId: 'happy-1',
          storageLocations: ['europe-west1'],
          snapshotType: 'ARCHIVE',
        }),
      ),
    );
    const name = snapshotNameFor('happy-1', zonal);
    assert.deepEqual(outcome.snapshot, {
      project: 'prod-project',
      name,
      storageLocations: ['europe-west1'],
    });
    assert.deepEqual(outcome.disk, { ...zonal, type: 'pd-ssd', sizeGb: 20 });
    assert.equal(outcome.created, true);
    const stored = standin.state.snapshotRecord('prod-project', name);
    assert.ok(stored);
    assert.equal(stored.status, 'READY');
    assert.equal(stored.snapshotType, 'ARCHIVE');
    assert.deepEqual(stored.labels, {
      'lifeboat-backup': 'happy-1',
      'lifeboat-cluster': 'shop',
      'lifeboat-pvc-namespace': 'shop',
      'lifeboat-pvc-name': 'data-mysql-0',
    });
    assert.deepEqual(stored.bytes, data);
    // The operation was polled through the global operations' wait method until DONE.
    assert.ok(standin.callCount('globalOperations.wait') >= 2, JSON.stringify(standin.calls()));
    assert.equal(standin.callCount('projects.get'), 1, 'the quota is checked before creating');
    assert.equal(standin.callCount('unsupported'), 0);
  });

  it('snapshots a regional disk and reports its replica zones', async () => {
    const regional = { project: 'prod-project', region: 'us-central1', name: 'pvc-regional' };
    standin.seedDisk({
      ...regional,
      replicaZones: ['us-central1-a', 'us-central1-f'],
      sizeGb: 200,
      type: 'pd-balanced',
    });
    const outcome = ready(
      await snapshotter.snapshotDisk(request({ backupId: 'regional-1', disk: regional })),
    );
    assert.deepEqual(outcome.disk, {
      ...regional,
      replicaZones: ['us-central1-a', 'us-central1-f'],
      type: 'pd-balanced',
      sizeGb: 200,
    });
  });

  it('makes one snapshot when the same request is delivered again', async () => {
    const first = ready(await snapshotter.snapshotDisk(request({ backupId: 'dup-1' })));
    const second = ready(await snapshotter.snapshotDisk(request({ backupId: 'dup-1' })));
    assert.deepEqual(second.snapshot, first.snapshot);
    assert.equal(first.created, true);
    assert.equal(second.created, false, 'the redelivery adopts the first snapshot');
    assert.equal(standin.callCount('snapshots.insert'), 1);
    assert.equal(standin.state.created.snapshots, 1);
  });

  it('makes one snapshot when two deliveries race past the existence check (409 -> adopt)', async () => {
    const gate = standin.hold('snapshots.insert');
    const both = Promise.all([
      snapshotter.snapshotDisk(request({ backupId: 'race-1' })),
      snapshotter.snapshotDisk(request({ backupId: 'race-1' })),
    ]);
    await gate.arrived(2);
    gate.release();
    const outcomes = (await both).map(ready);
    assert.equal(standin.callCount('snapshots.insert'), 2, 'both deliveries tried to insert');
    assert.equal(standin.state.created.snapshots, 1, 'yet only one snapshot exists');
    assert.deepEqual(outcomes.map((o) => o.created).sort(), [false, true]);
    assert.equal(outcomes[0]?.snapshot.name, outcomes[1]?.snapshot.name);
  });

  it('fails with the reason when the disk does not exist', async () => {
    const missing = { ...zonal, name: 'pvc-gone' };
    const outcome = failed(
      await snapshotter.snapshotDisk(request({ backupId: 'missing-1', disk: missing })),
    );
    assert.match(
      outcome.reason,
      /disk projects\/prod-project\/zones\/us-central1-a\/disks\/pvc-gone/,
    );
    assert.match(outcome.reason, /does not exist/);
    assert.equal(outcome.retryable, false);
    assert.equal(standin.callCount('snapshots.insert'), 0);
  });

  it('fails before creating anything when the SNAPSHOTS quota is used up', async () => {
    standin.setFaults({ snapshotQuotaExhausted: true });
    const outcome = failed(await snapshotter.snapshotDisk(request({ backupId: 'quota-1' })));
    assert.match(outcome.reason, /quota SNAPSHOTS exceeded in project prod-project/);
    assert.equal(outcome.retryable, false);
    assert.equal(standin.callCount('snapshots.insert'), 0, 'the pre-check stops it');
  });

  it('fails with the API message when the insert itself hits the quota', async () => {
    standin.setFaults({ snapshotInsertQuotaExceeded: true });
    const outcome = failed(await snapshotter.snapshotDisk(request({ backupId: 'quota-2' })));
    assert.match(outcome.reason, /Quota 'SNAPSHOTS' exceeded/);
    assert.match(outcome.reason, /HTTP 403/);
    assert.equal(outcome.retryable, false);
  });

  it('fails with the operation error when the operation ends DONE with errors', async () => {
    standin.setFaults({
      operationError: {
        code: 'RESOURCE_NOT_READY',
        message: 'The disk is being modified',
        httpStatus: 400,
      },
    });
    const outcome = failed(await snapshotter.snapshotDisk(request({ backupId: 'operr-1' })));
    assert.match(
      outcome.reason,
      /operation operation-\S+ failed: RESOURCE_NOT_READY: The disk is being modified/,
    );
    assert.equal(outcome.retryable, true, 'RESOURCE_NOT_READY passes on a later attempt');
    assert.equal(
      standin.state.snapshotRecord('prod-project', snapshotNameFor('operr-1', zonal)),
      undefined,
    );
  });

  it('fails when the snapshot is still CREATING at the deadline', async () => {
    standin.setFaults({ snapshotStuckCreating: true });
    const started = Date.now();
    const outcome = failed(
      await snapshotter.snapshotDisk(
        request({ backupId: 'stuck-1', deadline: Deadline.after(400) }),
      ),
    );
    assert.match(outcome.reason, /still CREATING after 400ms/);
    assert.equal(outcome.retryable, true);
    assert.ok(Date.now() - started < 5000, 'gave up at the deadline');
    assert.ok(standin.callCount('snapshots.get') > 2, 'kept looking until the deadline');
  });

  it('fails when the operation is still RUNNING at the deadline', async () => {
    standin.setFaults({ operationStuckRunning: true });
    const outcome = failed(
      await snapshotter.snapshotDisk(
        request({ backupId: 'slow-op-1', deadline: Deadline.after(300) }),
      ),
    );
    assert.match(outcome.reason, /operation operation-\S+ still RUNNING after 300ms/);
    assert.equal(outcome.retryable, true, 'a redelivery adopts the snapshot and waits again');
    assert.ok(standin.callCount('globalOperations.wait') > 2);
  });

  it('refuses to adopt a snapshot of the same name made from another disk', async () => {
    const other = { ...zonal, name: 'pvc-other' };
    standin.seedDisk({ ...other, bytes: Buffer.from('other') });
    const name = snapshotNameFor('collide-1', zonal);
    // Plant a snapshot under the name zonal's snapshot would get, but of another disk.
    standin.state.insertSnapshot('prod-project', {
      name,
      sourceDisk: `projects/prod-project/zones/us-central1-a/disks/pvc-other`,
    });
    const outcome = failed(await snapshotter.snapshotDisk(request({ backupId: 'collide-1' })));
    assert.match(outcome.reason, /name is taken by another resource/);
  });
});
