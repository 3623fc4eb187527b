import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Sealer } from '../../../shared/crypto/sealer.js';
import { indexPack } from '../../../shared/catalog/pack-index.js';
import {
  decodePack,
  encodePack,
  encodeRecord,
  type EncodedPack,
} from '../../../shared/catalog/pack.js';

const CONFIGMAPS = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};
const SECRETS = { ...CONFIGMAPS, resource: 'secrets', kind: 'Secret' };

async function configMaps(count: number): Promise<EncodedPack> {
  return encodePack(
    CONFIGMAPS,
    Array.from({ length: count }, (_, i) =>
      encodeRecord(
        { ...CONFIGMAPS, namespace: 'ns', name: `cm-${i}` },
        {
          object: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `cm-${i}`, namespace: 'ns', labels: { app: `a${i}` } },
            // A body holding the very keys that separate a line's parts.
            data: { value: `v${i}`, ',"ref":': '{"ref":', nested: '{"sealed":1}', unicode: 'é ✓' },
          },
        },
      ),
    ),
  );
}

async function secrets(count: number): Promise<EncodedPack> {
  const sealer = new Sealer('k1', Buffer.alloc(32, 7));
  return encodePack(
    SECRETS,
    Array.from({ length: count }, (_, i) =>
      encodeRecord(
        { ...SECRETS, namespace: 'ns', name: `s-${i}` },
        { sealed: sealer.seal(Buffer.from(`{"data":{"k":"${i}"}}`), `secrets/ns/s-${i}`) },
      ),
    ),
  );
}

const edited = (p: EncodedPack, edit: (text: string) => string): Buffer =>
  gzipSync(Buffer.from(edit(gunzipSync(p.gzipped).toString('utf8'))));

/** Indexes a pack and reads every record, as a reader of every body would. */
function readAll(bytes: Buffer, digest: string): void {
  const indexed = indexPack(bytes, digest);
  for (let i = 0; i < indexed.refs.length; i++) indexed.record(i);
}

function goldenPacks(): { digest: string; bytes: Buffer }[] {
  const found: { digest: string; bytes: Buffer }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.jsonl.gz'))
        found.push({ digest: entry.name.replace('.jsonl.gz', ''), bytes: readFileSync(path) });
    }
  };
  walk('test/fixtures/golden');
  return found;
}

describe('indexPack: the refs of a pack, verified without parsing its bodies', () => {
  it('gives the refs and records decodePack gives, for objects and sealed Secrets', async () => {
    for (const p of [await configMaps(40), await secrets(10)]) {
      const index = indexPack(p.gzipped, p.digest);
      const { records } = decodePack(p.gzipped, p.digest);
      assert.deepEqual(
        index.refs,
        records.map((r) => r.ref),
      );
      records.forEach((r, i) => {
        assert.deepEqual(index.record(i), r);
        assert.equal(index.sealed(i), r.sealed !== undefined);
      });
    }
  });

  it('indexes every pack of the golden stores of every format as decodePack decodes it', () => {
    const packs = goldenPacks();
    assert.ok(packs.length >= 40, `only ${packs.length} golden packs`);
    for (const { digest, bytes } of packs) {
      assert.deepEqual(
        indexPack(bytes, digest).refs,
        decodePack(bytes, digest).records.map((r) => r.ref),
        digest,
      );
    }
  });

  it('accepts a line of another shape that decodePack accepts (keys in another order)', async () => {
    const p = await configMaps(3);
    const reordered = edited(p, (t) =>
      t
        .split('\n')
        .map((line, i) => {
          if (i === 0 || line === '') return line;
          const r = JSON.parse(line) as { ref: unknown; object: unknown };
          return JSON.stringify({ ref: r.ref, object: r.object });
        })
        .join('\n'),
    );
    assert.deepEqual(
      indexPack(reordered, p.digest).refs,
      decodePack(reordered, p.digest).records.map((r) => r.ref),
    );
  });

  it('accepts refs spelled with other whitespace, as decodePack does', async () => {
    const p = await configMaps(3);
    const spaced = edited(p, (t) => t.replaceAll('"ref":{"group":', '"ref":{ "group": '));
    assert.notDeepEqual(spaced, p.gzipped);
    assert.deepEqual(
      indexPack(spaced, p.digest).refs,
      decodePack(spaced, p.digest).records.map((r) => r.ref),
    );
  });

  it('lists a pack whose body was edited, and refuses that record when it is read', async () => {
    const p = await configMaps(5);
    const bytes = edited(p, (t) => t.replace('"v3"', '"V3"'));
    const indexed = indexPack(bytes, p.digest);
    assert.deepEqual(
      indexed.refs,
      decodePack(p.gzipped, p.digest).records.map((r) => r.ref),
    );
    const changed = indexed.refs.findIndex((r) => r.name === 'cm-3');
    assert.ok(changed >= 0, 'cm-3 is in the pack');
    assert.throws(() => indexed.record(changed), /cm-3 in pack .* does not match its digest/);
    for (let i = 0; i < indexed.refs.length; i++) {
      if (i !== changed) assert.equal(indexed.record(i).ref.name, indexed.refs[i]!.name);
    }
  });

  it('refuses what decodePack refuses, with the same reasons', async () => {
    const p = await configMaps(5);
    const s = await secrets(3);
    const cases: [string, EncodedPack, Buffer, RegExp][] = [
      [
        'a value edited',
        p,
        edited(p, (t) => t.replace('"v3"', '"V3"')),
        /does not match its digest/,
      ],
      [
        'a sealed payload edited',
        s,
        edited(s, (t) =>
          t.replace(
            /"ciphertext":"(.)/,
            (_, c: string) => `"ciphertext":"${c === 'A' ? 'B' : 'A'}`,
          ),
        ),
        /does not match its digest/,
      ],
      [
        'a record dropped',
        p,
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
        p,
        edited(p, (t) => t.replaceAll('"cm-4"', '"cm-9"')),
        /modified after the backup/,
      ],
      [
        'an empty line inserted',
        p,
        edited(p, (t) => t.replace('\n', '\n\n')),
        /not valid JSON lines/,
      ],
      ['not gzip', p, Buffer.from('plain'), /not valid gzip/],
    ];
    for (const [what, pack, bytes, reason] of cases) {
      assert.throws(() => decodePack(bytes, pack.digest), reason, `decodePack: ${what}`);
      assert.throws(() => readAll(bytes, pack.digest), reason, `indexPack: ${what}`);
    }
    const other = await configMaps(6);
    assert.throws(() => indexPack(other.gzipped, p.digest), /modified after the backup/);
  });
});
