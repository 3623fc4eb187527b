import { strict as assert } from 'node:assert';
import type { Catalog, VolumeEntry } from '../../../shared/catalog/catalog-schema.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { collectSnapshots } from '../../../shared/pipeline/snapshot-collection.js';
import { validate } from '../../../shared/validate.js';
import { FakeSnapshotter } from '../disks/fake-snapshotter.js';

const CLUSTER = { project: 'my-project', location: 'us-central1', name: 'prod' };

function catalogOf(backupId: string, volumes: VolumeEntry[]): Catalog {
  return {
    formatVersion: 2,
    writtenBy: 'lifeboat test',
    kind: 'Catalog',
    backupId,
    cluster: CLUSTER,
    kubernetesVersion: 'v1.33.0',
    policy: validate(BackupPolicy, { name: 'nightly', projects: [CLUSTER.project] }, 'policy'),
    phase: volumes.some((v) => v.status === 'FAILED') ? 'PartiallyFailed' : 'Completed',
    startedAt: '2026-06-01T02:00:00.000Z',
    completedAt: '2026-06-01T02:10:00.000Z',
    counts: { objects: 0, packs: 0, packBytes: 0, volumes: volumes.length, secrets: 0 },
    resources: [],
    packs: [],
    volumes,
    warnings: [],
    errors: [],
    digest: '0'.repeat(64),
  };
}

const volume = (pvName: string, status: VolumeEntry['status'], snapshot?: string): VolumeEntry => ({
  pvName,
  driver: 'pd.csi.storage.gke.io',
  status,
  ...(snapshot ? { snapshot: { project: CLUSTER.project, name: snapshot } } : {}),
  ...(status === 'FAILED' ? { reason: 'still UPLOADING after 8m' } : {}),
});

describe('collectSnapshots', () => {
  it('deletes the snapshot a FAILED volume of an expired backup names, as it does a READY one', async () => {
    const disks = new FakeSnapshotter();
    const expired = catalogOf('old', [
      volume('pv-a', 'READY', 'lb-old-a'),
      volume('pv-b', 'FAILED', 'lb-old-b'),
      volume('pv-c', 'FAILED'),
    ]);
    const report = { deletedSnapshots: [] as string[], errors: [] as string[] };
    await collectSnapshots(disks, [expired], [], new Set(), report);
    assert.deepEqual(disks.deleteRequests.map((r) => r.name).sort(), ['lb-old-a', 'lb-old-b']);
    assert.deepEqual(report.errors, []);
  });

  it('keeps a snapshot a kept backup names, FAILED entries included', async () => {
    const disks = new FakeSnapshotter();
    const expired = catalogOf('old', [volume('pv-a', 'FAILED', 'lb-shared')]);
    const kept = catalogOf('new', [volume('pv-a', 'FAILED', 'lb-shared')]);
    const report = { deletedSnapshots: [] as string[], errors: [] as string[] };
    await collectSnapshots(disks, [expired], [kept], new Set(), report);
    assert.deepEqual(disks.deleteRequests, []);
  });
});
