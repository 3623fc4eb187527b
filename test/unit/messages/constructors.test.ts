import { strict as assert } from 'node:assert';
import {
  API_VERSION,
  backupCompleted,
  parseMessage,
  partDone,
  restoreCompleted,
} from '../../../shared/messages/index.js';

const cluster = { project: 'acme-prod', location: 'europe-west1', name: 'shop' };

describe('message constructors', () => {
  it('build messages their own schema accepts, header first', () => {
    const part = partDone(
      { backupId: 'b1', cluster },
      {
        partId: 'volume/pv-1',
        partKind: 'volume',
        ok: false,
        error: 'snapshot failed',
      },
    );
    const backup = backupCompleted({
      backupId: 'b1',
      cluster,
      phase: 'Failed',
      catalogKey: 'backups/acme-prod.europe-west1.shop/b1/catalog.json',
      counts: {},
      errors: ['not planned'],
    });
    const restore = restoreCompleted(
      { restoreId: 'r1', target: cluster },
      { backupId: 'b1', phase: 'Completed', counts: { restored: 3 }, errors: [] },
    );
    assert.deepEqual(parseMessage('PartDone', structuredClone(part)), part);
    assert.deepEqual(parseMessage('BackupCompleted', structuredClone(backup)), backup);
    assert.deepEqual(parseMessage('RestoreCompleted', structuredClone(restore)), restore);
    for (const [message, kind] of [
      [part, 'PartDone'],
      [backup, 'BackupCompleted'],
      [restore, 'RestoreCompleted'],
    ] as const) {
      assert.deepEqual(Object.keys(message).slice(0, 2), ['apiVersion', 'kind']);
      assert.equal(message.apiVersion, API_VERSION);
      assert.equal(message.kind, kind);
    }
    assert.deepEqual(Object.keys(part).slice(2, 4), ['backupId', 'cluster']);
    assert.deepEqual(Object.keys(restore), [
      ...['apiVersion', 'kind', 'restoreId', 'backupId', 'target'],
      ...['phase', 'counts', 'errors'],
    ]);
  });
});
