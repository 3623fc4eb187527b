import { strict as assert } from 'node:assert';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openPack } from '../../../shared/catalog/pack-reader.js';
import {
  decodePack,
  encodePack,
  encodeRecord,
  type EncodedPack,
} from '../../../shared/catalog/pack.js';

const REF = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};

async function pack(count: number): Promise<EncodedPack> {
  return encodePack(
    REF,
    Array.from({ length: count }, (_, i) =>
      encodeRecord(
        { ...REF, namespace: 'ns', name: `cm-${i}` },
        {
          object: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `cm-${i}`, namespace: 'ns' },
            data: { value: `v${i}`, unicode: 'é ✓ \u2028' },
          },
        },
      ),
    ),
  );
}

/** The pack's text edited, gzipped again. */
const edited = (p: EncodedPack, edit: (text: string) => string): Buffer =>
  gzipSync(Buffer.from(edit(gunzipSync(p.gzipped).toString('utf8'))));

describe('openPack: a pack verified as decodePack verifies it, records parsed on demand', () => {
  it('gives the records decodePack gives, in order, and an empty pack', async () => {
    const p = await pack(50);
    const opened = openPack(p.gzipped, p.digest);
    const { records } = decodePack(p.gzipped, p.digest);
    assert.equal(opened.count, 50);
    for (let i = 0; i < 50; i++) assert.deepEqual(opened.record(i), records[i]);
    assert.throws(() => opened.record(50), /has no record 50/);
    const empty = await pack(0);
    assert.equal(openPack(empty.gzipped, empty.digest).count, 0);
  });

  it('refuses what decodePack refuses, with the same reasons', async () => {
    const p = await pack(5);
    const cases: [string, Buffer, RegExp][] = [
      ['a value edited', edited(p, (t) => t.replace('"v3"', '"V3"')), /does not match its digest/],
      [
        'a record dropped',
        edited(p, (t) =>
          t
            .split('\n')
            .filter((l) => !l.includes('"cm-2"'))
            .join('\n'),
        ),
        /header says 5 objects, found 4/,
      ],
      [
        'a ref edited with its record',
        edited(p, (t) => t.replaceAll('"cm-4"', '"cm-9"')),
        /modified after the backup/,
      ],
      ['an empty line inserted', edited(p, (t) => t.replace('\n', '\n\n')), /not valid JSON lines/],
      ['not gzip', Buffer.from('plain'), /not valid gzip/],
    ];
    for (const [what, bytes, reason] of cases) {
      assert.throws(() => decodePack(bytes, p.digest), reason, `decodePack: ${what}`);
      assert.throws(() => openPack(bytes, p.digest), reason, `openPack: ${what}`);
    }
    const other = await pack(6);
    assert.throws(() => openPack(other.gzipped, p.digest), /modified after the backup/);
  });
});
