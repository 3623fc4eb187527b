import { strict as assert } from 'node:assert';
import type { V1Pod } from '@kubernetes/client-node';
import { Deadline } from '../../../shared/time/deadline.js';
import type { SnapshotOutcome } from '../../../shared/disks/disk-snapshotter.js';
import { hookAnnotation } from '../../../shared/disks/hooks.js';
import type { PodExec } from '../../../shared/disks/pod-exec.js';
import { captureVolume, type VolumeCaptureRequest } from '../../../shared/backup/capture-volume.js';
import { FakeSnapshotter } from '../disks/fake-snapshotter.js';
import { claimFor, csiZonalPv } from '../disks/pv-fixtures.js';

describe('captureVolume: one volume, one unit of work', () => {
  const cluster = { project: 'prod-project', location: 'us-central1', name: 'shop' };
  const request = (overrides: Partial<VolumeCaptureRequest> = {}): VolumeCaptureRequest => ({
    backupId: 'b1',
    cluster,
    pv: csiZonalPv('pvc-a'),
    pvc: claimFor(csiZonalPv('pvc-a')),
    deadline: Deadline.after(5000),
    ...overrides,
  });

  it('records a READY volume with its disk and snapshot, and the claim in the labels', async () => {
    const disks = new FakeSnapshotter();
    const result = await captureVolume(
      request({ storageLocations: ['us'], snapshotType: 'ARCHIVE' }),
      { disks },
    );
    assert.equal(result.entry.status, 'READY');
    assert.equal(result.entry.pvName, 'pvc-a');
    assert.equal(result.entry.pvcNamespace, 'shop');
    assert.equal(result.entry.driver, 'pd.csi.storage.gke.io');
    assert.equal(result.entry.storageClass, 'standard-rwo');
    assert.equal(result.entry.capacity, '20Gi');
    assert.deepEqual(result.entry.disk, {
      project: 'prod-project',
      zone: 'us-central1-a',
      name: 'pvc-a',
      type: 'pd-balanced',
      sizeGb: 20,
    });
    assert.equal(result.entry.snapshot?.project, 'prod-project');
    assert.deepEqual(disks.snapshotRequests[0]?.pvc, { namespace: 'shop', name: 'data-mysql-0' });
    assert.deepEqual(disks.snapshotRequests[0]?.storageLocations, ['us']);
    assert.equal(disks.snapshotRequests[0]?.snapshotType, 'ARCHIVE');
  });

  it('turns a failed snapshot into a FAILED entry with its error, never READY', async () => {
    const disks = new FakeSnapshotter();
    disks.failWith = 'quota SNAPSHOTS exceeded in project prod-project';
    const bad = await captureVolume(request(), { disks });
    assert.equal(bad.entry.status, 'FAILED');
    assert.equal(bad.entry.reason, 'quota SNAPSHOTS exceeded in project prod-project');
    assert.deepEqual(bad.errors, [
      'volume pvc-a: quota SNAPSHOTS exceeded in project prod-project',
    ]);
  });

  it('turns a thrown error into a FAILED entry as well', async () => {
    const disks = new FakeSnapshotter();
    disks.throwError = new Error('socket hang up');
    const result = await captureVolume(request(), { disks });
    assert.equal(result.entry.status, 'FAILED');
    assert.equal(result.entry.reason, 'socket hang up');
  });

  it('records volumes it cannot snapshot as NOT_SNAPSHOTTED with the reason, which does not fail the backup', async () => {
    const disks = new FakeSnapshotter();
    const nfs = await captureVolume(
      request({
        pv: { metadata: { name: 'nfs-share' }, spec: { nfs: { server: '10.0.0.2', path: '/' } } },
      }),
      { disks },
    );
    assert.equal(nfs.entry.status, 'NOT_SNAPSHOTTED');
    assert.match(nfs.entry.reason ?? '', /nfs volume is not a Compute Engine disk/);
    const filestore = csiZonalPv('pvc-fs');
    if (filestore.spec?.csi) filestore.spec.csi.driver = 'filestore.csi.storage.gke.io';
    const csi = await captureVolume(request({ pv: filestore }), { disks });
    assert.equal(csi.entry.status, 'NOT_SNAPSHOTTED');
    assert.match(
      csi.entry.reason ?? '',
      /no VolumeSnapshotClass is configured for CSI driver filestore.csi.storage.gke.io/,
    );
    assert.equal(disks.snapshotRequests.length, 0);
  });

  it('takes the CSI path for other drivers when a class is configured', async () => {
    const filestore = csiZonalPv('pvc-fs');
    if (filestore.spec?.csi) filestore.spec.csi.driver = 'filestore.csi.storage.gke.io';
    const calls: string[] = [];
    const result = await captureVolume(
      request({
        pv: filestore,
        csiSnapshotClasses: { 'filestore.csi.storage.gke.io': 'fs-class' },
      }),
      {
        disks: new FakeSnapshotter(),
        csi: {
          snapshotClaim: async (r) => {
            calls.push(`${r.namespace}/${r.pvcName} with ${r.volumeSnapshotClass}`);
            return {
              status: 'READY',
              driver: 'filestore.csi.storage.gke.io',
              created: true,
              csiSnapshot: {
                volumeSnapshotClass: 'fs-class',
                namespace: r.namespace,
                name: 'vs',
                snapshotHandle: 'h-1',
              },
            };
          },
        },
      },
    );
    assert.deepEqual(calls, ['shop/data-mysql-0 with fs-class']);
    assert.equal(result.entry.status, 'READY');
    assert.equal(result.entry.csiSnapshot?.snapshotHandle, 'h-1');
  });

  it('fails the volume when its pre hook fails, and the backup when a post hook fails', async () => {
    const mysql: V1Pod = {
      metadata: {
        name: 'mysql-0',
        namespace: 'shop',
        annotations: {
          [hookAnnotation('pre', 'command')]: '["fsfreeze","--freeze","/var/lib/mysql"]',
          [hookAnnotation('post', 'command')]: '["fsfreeze","--unfreeze","/var/lib/mysql"]',
        },
      },
      spec: { containers: [{ name: 'mysql' }] },
    };
    const failing = (word: string): PodExec => ({
      exec: async (r) => ({ exitCode: r.command.includes(word) ? 1 : 0, stdout: '', stderr: '' }),
    });
    const disks = new FakeSnapshotter();
    const pre = await captureVolume(request({ pods: [mysql] }), {
      disks,
      exec: failing('--freeze'),
    });
    assert.equal(pre.entry.status, 'FAILED');
    assert.equal(disks.snapshots.size, 0, 'no snapshot of an unfrozen filesystem');
    const post = await captureVolume(request({ pods: [mysql] }), {
      disks,
      exec: failing('--unfreeze'),
    });
    assert.equal(post.entry.status, 'READY', 'the data is fine');
    assert.match(
      post.errors[0] ?? '',
      /post hook in pod shop\/mysql-0 container mysql failed: exit code 1/,
    );
  });

  it('runs no hook around a snapshot it adopts: the attempt that cut it ran them', async () => {
    const mysql: V1Pod = {
      metadata: {
        name: 'mysql-0',
        namespace: 'shop',
        annotations: {
          [hookAnnotation('pre', 'command')]: '["fsfreeze","--freeze","/var/lib/mysql"]',
          [hookAnnotation('post', 'command')]: '["fsfreeze","--unfreeze","/var/lib/mysql"]',
        },
      },
      spec: { containers: [{ name: 'mysql' }] },
    };
    const ran: string[] = [];
    const exec: PodExec = {
      exec: async (r) => {
        ran.push(r.command.join(' '));
        return { exitCode: 0, stdout: '', stderr: '' };
      },
    };
    const disks = new FakeSnapshotter();
    const first = await captureVolume(request({ backupId: 'b-adopt', pods: [mysql] }), {
      disks,
      exec,
    });
    assert.equal(first.entry.status, 'READY');
    assert.deepEqual(ran, [
      'fsfreeze --freeze /var/lib/mysql',
      'fsfreeze --unfreeze /var/lib/mysql',
    ]);
    const again = await captureVolume(request({ backupId: 'b-adopt', pods: [mysql] }), {
      disks,
      exec,
    });
    assert.equal(again.entry.status, 'READY');
    assert.equal(ran.length, 2, 'no freeze around a snapshot already cut');
    assert.deepEqual(again.hooks, []);
  });

  it('names the snapshot a FAILED volume may have left, and says a later attempt may succeed', async () => {
    class StillUploading extends FakeSnapshotter {
      override async snapshotDisk(): Promise<SnapshotOutcome> {
        return {
          status: 'FAILED',
          reason: 'snapshot lb-x: still UPLOADING after 8m',
          retryable: true,
          pending: 'UPLOADING',
          snapshot: { project: 'prod-project', name: 'lb-x' },
        };
      }
    }
    const result = await captureVolume(request(), { disks: new StillUploading() });
    assert.equal(result.entry.status, 'FAILED');
    assert.deepEqual(result.entry.snapshot, { project: 'prod-project', name: 'lb-x' });
    assert.equal(result.retryable?.pending, 'UPLOADING');
    assert.deepEqual(result.errors, ['volume pvc-a: snapshot lb-x: still UPLOADING after 8m']);
    const permanent = new FakeSnapshotter();
    permanent.failWith = 'the disk does not exist';
    const gone = await captureVolume(request(), { disks: permanent });
    assert.equal(gone.retryable, undefined, 'nothing to wait for');
    assert.equal(gone.entry.snapshot, undefined);
  });
});
