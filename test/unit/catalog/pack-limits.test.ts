import { strict as assert } from 'node:assert';
import { gzipSync } from 'node:zlib';
import { PermanentError } from '../../../shared/errors.js';
import {
  decodePack,
  encodePack,
  encodeRecord,
  PACK_CUT_BYTES,
  PACK_MAX_RAW_BYTES,
} from '../../../shared/catalog/pack.js';

const REF = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};

/**
 * A gzip bomb: concatenated gzip members of 16 MiB of one repeated byte
 * (gunzip reads them as one stream), about 4.6 MB that inflate to ~4.5 GiB.
 */
function gzipBomb(): Buffer {
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x7b), { level: 9 });
  const copies = Math.ceil((4.6 * 1000 * 1000) / member.length);
  return Buffer.concat(Array.from({ length: copies }, () => member));
}

describe('pack decoding is bounded in bytes (attacks)', () => {
  it('refuses a 4.6 MB gzip bomb named as a pack quickly, without inflating it', () => {
    const bomb = gzipBomb();
    assert.ok(bomb.length > 4_500_000 && bomb.length < 5_000_000, String(bomb.length));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    assert.throws(
      () => decodePack(bomb, 'a'.repeat(64)),
      (error: unknown) =>
        error instanceof PermanentError && /more than \d+ bytes/.test(error.message),
    );
    // The process's peak RSS, so a buffer inflated and freed again still counts.
    const peak = Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
    const ms = performance.now() - started;
    assert.ok(ms < 5_000, `took ${Math.round(ms)} ms`);
    const grewMb = (peak - rssBefore) / 1024 / 1024;
    assert.ok(grewMb < 300, `RSS grew by ${Math.round(grewMb)} MB`);
  });

  it('still decodes the largest pack the export writes', async () => {
    const records = [];
    let bytes = 0;
    // Objects of ~1 MiB until the export's cut, plus one more: the largest pack it writes.
    for (let i = 0; bytes < PACK_CUT_BYTES; i++) {
      const record = encodeRecord(
        { ...REF, namespace: 'ns', name: `cm-${String(i).padStart(3, '0')}` },
        {
          object: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `cm-${i}`, namespace: 'ns' },
            data: { blob: String(i % 10).repeat(1024 * 1024) },
          } as never,
        },
      );
      bytes += record.line.length;
      records.push(record);
    }
    assert.ok(PACK_MAX_RAW_BYTES > bytes + 4 * 1024 * 1024);
    const pack = await encodePack(REF, records);
    assert.equal(decodePack(pack.gzipped, pack.digest).records.length, records.length);
  });
});
