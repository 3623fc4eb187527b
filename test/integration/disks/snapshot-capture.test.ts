import { strict as assert } from 'node:assert';
import { Deadline } from '../../../shared/time/deadline.js';
import type {
  CaptureHooks,
  SnapshotOutcome,
  SnapshotRequest,
} from '../../../shared/disks/disk-snapshotter.js';
import { GceSnapshotter } from '../../../shared/disks/gce-snapshotter.js';
import { snapshotNameFor } from '../../../shared/disks/names.js';
import { ComputeStandin } from '../../../local/standins/compute/server.js';

/**
 * The capture of a snapshot with the real client against the Compute
 * stand-in: hooks around the cut (the post hook once the creation is done,
 * while the snapshot still uploads), none around an adopted snapshot; a wait
 * cut short is "pending", not a failure, and names the snapshot; a 503 on
 * insert is retryable and names the snapshot too, since it may exist.
 */
describe('GceSnapshotter: the capture, and what a failure leaves', () => {
  let standin: ComputeStandin;
  let snapshotter: GceSnapshotter;
  const cluster = { project: 'prod-project', location: 'us-central1', name: 'shop' };
  const disk = { project: 'prod-project', zone: 'us-central1-a', name: 'pvc-capture' };

  const request = (
    backupId: string,
    overrides: Partial<SnapshotRequest> = {},
  ): SnapshotRequest => ({
    backupId,
    cluster,
    disk,
    deadline: Deadline.after(10_000),
    ...overrides,
  });

  /** Hooks that record the snapshot's status as the stand-in has it when each runs. */
  function recordingHooks(backupId: string): { hooks: CaptureHooks; seen: string[] } {
    const name = snapshotNameFor(backupId, disk);
    const seen: string[] = [];
    const status = (): string =>
      standin.state.snapshotRecord(disk.project, name)?.status ?? 'ABSENT';
    return {
      seen,
      hooks: {
        pre: async () => {
          seen.push(`pre:${status()}`);
          return true;
        },
        post: async () => {
          seen.push(`post:${status()}`);
        },
      },
    };
  }

  function failed(outcome: SnapshotOutcome): Extract<SnapshotOutcome, { status: 'FAILED' }> {
    assert.equal(outcome.status, 'FAILED', 'expected the snapshot not to be READY');
    return outcome as Extract<SnapshotOutcome, { status: 'FAILED' }>;
  }

  before(async () => {
    standin = await ComputeStandin.start();
    snapshotter = new GceSnapshotter({ client: standin.clientOptions(), pollIntervalMs: 20 });
    standin.seedDisk({ ...disk, sizeGb: 10, bytes: Buffer.from('data') });
  });
  after(async () => {
    await snapshotter.close();
    await standin.stop();
  });
  afterEach(() => standin.clearFaults());

  it('runs the post hook once the creation is done, before READY, and no hook around an adopted snapshot', async () => {
    standin.setFaults({ snapshotUploadMs: 5000 });
    const first = recordingHooks('capture-1');
    const pending = failed(
      await snapshotter.snapshotDisk(
        request('capture-1', { hooks: first.hooks, deadline: Deadline.after(2000) }),
      ),
    );
    assert.deepEqual(first.seen, ['pre:ABSENT', 'post:UPLOADING']);
    assert.equal(pending.pending, 'UPLOADING', pending.reason);
    assert.equal(pending.retryable, true);
    const name = snapshotNameFor('capture-1', disk);
    assert.deepEqual(pending.snapshot, { project: disk.project, name });

    // The next attempt (a handed-over job) adopts it and waits: no hook runs again.
    const again = recordingHooks('capture-1');
    const outcome = await snapshotter.snapshotDisk(request('capture-1', { hooks: again.hooks }));
    assert.equal(outcome.status, 'READY', outcome.status === 'FAILED' ? outcome.reason : '');
    assert.deepEqual(again.seen, []);
    assert.equal(standin.callCount('snapshots.insert'), 1);
  });

  it('does not take the snapshot when a pre hook fails, and names nothing', async () => {
    const outcome = failed(
      await snapshotter.snapshotDisk(
        request('capture-2', { hooks: { pre: async () => false, post: async () => undefined } }),
      ),
    );
    assert.equal(outcome.retryable, false);
    assert.equal(outcome.snapshot, undefined);
    assert.equal(standin.hasSnapshot(disk.project, snapshotNameFor('capture-2', disk)), false);
  });

  it('answers a 503 on insert as retryable, naming the snapshot it may have made; the post hook still runs', async () => {
    standin.failNext('snapshots.insert', 1);
    const hooks = recordingHooks('capture-3');
    const outcome = failed(
      await snapshotter.snapshotDisk(request('capture-3', { hooks: hooks.hooks })),
    );
    assert.equal(outcome.retryable, true, outcome.reason);
    assert.equal(outcome.pending, undefined);
    assert.match(outcome.reason, /HTTP 503/);
    assert.equal(outcome.snapshot?.name, snapshotNameFor('capture-3', disk));
    assert.deepEqual(hooks.seen, ['pre:ABSENT', 'post:ABSENT']);
    const retried = await snapshotter.snapshotDisk(request('capture-3'));
    assert.equal(retried.status, 'READY');
  });
});
