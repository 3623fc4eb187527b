import { Layout } from '../shared/catalog/layout.js';
import { announceBackup } from '../shared/pipeline/announce.js';
import { parseMessage } from '../shared/messages/index.js';
import { register } from './handle.js';

/** On every part reported: write the catalog once all are in, and announce it once. */
register(
  'emitCatalog',
  (json) => parseMessage('PartDone', json),
  async (part, { runtime }) => {
    const sealing = await runtime.sealer();
    const completed = await announceBackup(runtime.store, part.cluster, part.backupId, sealing);
    if (completed === undefined) return;
    // Claim the announcement first, so concurrent deliveries announce once.
    const marker = Layout.announced(part.cluster, part.backupId);
    if (!(await runtime.store.createIfAbsent(marker, JSON.stringify(completed)))) return;
    try {
      await runtime.bus.publish(runtime.topic('backup-completed'), completed);
    } catch (error) {
      await runtime.store.delete(marker);
      throw error;
    }
    runtime.logger.info(
      { backupId: part.backupId, cluster: part.cluster, phase: completed.phase },
      'backup completed',
    );
  },
);
