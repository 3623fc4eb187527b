import { PartsReader } from '../shared/backup/parts-reader.js';
import { writeCatalogIfComplete } from '../shared/pipeline/write-catalog-if-complete.js';
import { announceOnce } from '../shared/pipeline/announce-once.js';
import { parseMessage } from '../shared/messages/index.js';
import { register } from './handle.js';

/** One per instance: each part's body is read once, however many PartDone messages follow. */
let reader: PartsReader | undefined;

/** On every part reported: write the catalog once all are in, and announce it once. */
register(
  'emitCatalog',
  (json) => parseMessage('PartDone', json),
  async (part, { runtime, deadline }) => {
    reader ??= new PartsReader(runtime.store);
    const sealing = await runtime.sealer();
    const completed = await writeCatalogIfComplete(
      runtime.store,
      part.cluster,
      part.backupId,
      sealing,
      reader,
    );
    if (completed === undefined) return;
    const outcome = await announceOnce(
      runtime.store,
      completed,
      async (message) => {
        await runtime.bus.publish(runtime.topic('backup-completed'), message);
      },
      { deadline },
    );
    if (outcome === 'published') {
      runtime.logger.info(
        { backupId: part.backupId, cluster: part.cluster, phase: completed.phase },
        'backup completed',
      );
    }
  },
);
