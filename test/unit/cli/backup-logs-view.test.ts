import { strict as assert } from 'node:assert';
import { formatBackupLog, type BackupLog } from '../../../cli/backup-logs-view.js';
import { BackupPolicy } from '../../../shared/messages/index.js';
import { validate } from '../../../shared/validate.js';

const cluster = { project: 'prod-project', location: 'europe-west1', name: 'prod' };

describe('backup logs view', () => {
  it("shows the plan's fields, a row a shard and a row a volume, and the plan's warnings", () => {
    const log: BackupLog = {
      backupId: 'nightly-1',
      cluster,
      catalogWritten: false,
      plan: {
        backupId: 'nightly-1',
        cluster,
        policy: validate(BackupPolicy, { name: 'nightly', projects: ['prod-project'] }, 'policy'),
        kubernetesVersion: 'v1.33.0',
        startedAt: '2026-01-01T02:00:00Z',
        shards: [],
        volumes: ['pv-a', 'pv-b'],
        warnings: ['a warning'],
      },
      shards: [
        { shardId: 'configmaps', status: 'ok', segments: 1, objects: 3 },
        { shardId: 'secrets', status: 'failed', segments: 1, objects: 0, error: 'denied' },
      ],
      volumes: [
        { pvName: 'pv-a', status: 'READY', snapshot: 'snap-a', errors: [], warnings: [] },
        { pvName: 'pv-b', status: 'PENDING', snapshot: undefined, errors: [], warnings: [] },
      ],
    };
    const text = formatBackupLog(log);
    assert.match(text, /Name:\s+nightly-1\n/);
    assert.match(text, /Cluster:\s+prod-project\/europe-west1\/prod\n/);
    assert.match(text, /Shards:\s+2 \(1 ok, 1 failed, 0 pending\)\n/);
    assert.match(text, /Volumes:\s+2 \(1 READY, 1 pending\)\n/);
    assert.match(text, /Catalog:\s+not written \(backup unfinished\)\n/);
    assert.match(text, /\n\s*secrets\s+failed\s+1\s+0\s+denied/);
    assert.match(text, /\n\s*pv-a\s+READY\s+snap-a/);
    assert.match(text, /a warning/);
  });
});
