import { strict as assert } from 'node:assert';
import {
  derivedName,
  isRfc1035Name,
  labelValue,
  MAX_NAME_LENGTH,
  restoredDiskNameFor,
  snapshotNameFor,
  volumeSnapshotNameFor,
} from '../../../shared/disks/names.js';

describe('derived resource names', () => {
  const disk = {
    project: 'prod-project',
    zone: 'us-central1-a',
    name: 'pvc-6b1f0c52-1b9e-4f7e-9a51-0d3c1a2b3c4d',
  };

  it('names a snapshot after the backup and the disk, validly and the same every time', () => {
    const name = snapshotNameFor('nightly-20261126', disk);
    assert.ok(isRfc1035Name(name), name);
    assert.ok(name.length <= MAX_NAME_LENGTH);
    assert.match(name, /^lb-nightly-20261126-pvc-6b1f0c52/);
    assert.equal(snapshotNameFor('nightly-20261126', { ...disk }), name);
  });

  it('gives a different name to another backup, disk, zone or project', () => {
    const name = snapshotNameFor('b1', disk);
    const others = [
      snapshotNameFor('b2', disk),
      snapshotNameFor('b1', { ...disk, name: `${disk.name}x` }),
      snapshotNameFor('b1', { ...disk, zone: 'us-central1-b' }),
      snapshotNameFor('b1', { ...disk, project: 'other-project' }),
      snapshotNameFor('b1', { project: disk.project, region: 'us-central1', name: disk.name }),
    ];
    assert.equal(new Set([name, ...others]).size, 6);
  });

  it('keeps names apart when truncation would make them equal', () => {
    const long = 'a'.repeat(80);
    const a = snapshotNameFor('backup', { ...disk, name: `${long}-one` });
    const b = snapshotNameFor('backup', { ...disk, name: `${long}-two` });
    assert.equal(a.length, MAX_NAME_LENGTH);
    assert.ok(isRfc1035Name(a) && isRfc1035Name(b));
    assert.notEqual(a, b);
  });

  it('cleans characters no Compute Engine name may hold', () => {
    const name = derivedName('lb', ['Backup_ID.1', '--Disk--'], 'x');
    assert.ok(isRfc1035Name(name), name);
    assert.match(name, /^lb-backup-id-1-disk-[0-9a-f]{8}$/);
    assert.throws(() => derivedName('9x', [], 'x'), /Invalid name prefix/);
  });

  it('names restored disks and VolumeSnapshots apart from snapshots', () => {
    const restored = restoredDiskNameFor('restore-1', disk);
    assert.ok(isRfc1035Name(restored));
    assert.match(restored, /^lbr-restore-1-/);
    assert.notEqual(restoredDiskNameFor('restore-2', disk), restored);
    const vs = volumeSnapshotNameFor('b1', 'shop', 'data-mysql-0');
    assert.ok(isRfc1035Name(vs));
    assert.notEqual(volumeSnapshotNameFor('b1', 'other', 'data-mysql-0'), vs);
  });

  it('makes label values that Compute Engine accepts', () => {
    assert.equal(labelValue('data-mysql-0'), 'data-mysql-0');
    assert.equal(labelValue('My.App'), 'my_app');
    const long = labelValue('x'.repeat(253));
    assert.equal(long.length, 63);
    assert.match(long, /^[a-z0-9_-]+$/);
    assert.notEqual(labelValue(`${'x'.repeat(252)}y`), long);
  });
});
