import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RetentionReport } from '../../../shared/pipeline/retention.js';
import { goldenCopy } from '../../support/golden.js';
import { errorLines, explain, runCli, type CliResult } from '../../unit/cli/run-cli.js';
import { jsonOf } from './cli-env.js';

const CATALOG = join('store', 'backups', 'local.local.source', 'golden', 'catalog.json');
/** A pack no catalog references, named as Layout names packs. */
const ORPHAN = join('store', 'objects', 'sha256', 'ab', `ab${'0'.repeat(62)}.jsonl.gz`);

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/**
 * A golden copy plus an orphan pack, every pack written 30 days ago: past
 * the sweep's grace period, so only a reference or a hold keeps a pack.
 */
async function agedStore(): Promise<{ dir: string; store: string; packs: string[] }> {
  const { dir } = await goldenCopy('format-2');
  mkdirSync(join(dir, ORPHAN, '..'), { recursive: true });
  writeFileSync(join(dir, ORPHAN), 'not referenced by any catalog');
  const old = new Date(Date.now() - 30 * 86_400_000);
  const packs = filesUnder(dir).filter((f) => f.startsWith(join('store', 'objects')));
  for (const f of packs) utimesSync(join(dir, f), old, old);
  return { dir, store: pathToFileURL(join(dir, 'store')).href, packs };
}

const retention = (store: string, ...extra: string[]): Promise<CliResult> =>
  runCli(['retention', 'run', '--store', store, ...extra]);

describe('lifeboat retention run', function () {
  this.timeout(120_000);

  it('without --store is a usage error; --help exits 0', async () => {
    const r = await runCli(['retention', 'run'], { LIFEBOAT_STORE: undefined });
    assert.equal(r.code, 2, explain(r));
    assert.match(errorLines(r)[0] ?? '', /^lifeboat: missing --store URL/);
    const help = await runCli(['retention', 'run', '--help']);
    assert.equal(help.code, 0, explain(help));
    assert.match(help.stdout, /^Usage: lifeboat retention run \[options\]/);
  });

  it('--dry-run keeps the golden backup and deletes nothing', async () => {
    const { dir, store } = await agedStore();
    const before = filesUnder(dir);
    const r = await retention(store, '--dry-run');
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /dry run: nothing was deleted/);
    assert.match(
      r.stdout,
      /Kept:\n\s+CLUSTER\s+BACKUP\s+REASON\n\s+local\/local\/source\s+golden\s+the newest Completed backup of its cluster\n/,
    );
    assert.match(r.stdout, /Expired \(would be deleted\):\n\s+<none>/);
    assert.equal(r.stderr, '');
    const json = jsonOf<RetentionReport>(await retention(store, '--dry-run', '-o', 'json'));
    assert.equal(json.dryRun, true);
    assert.deepEqual(json.kept, [
      {
        cluster: 'local.local.source',
        backupId: 'golden',
        reason: 'the newest Completed backup of its cluster',
      },
    ]);
    assert.deepEqual(filesUnder(dir), before, 'nothing deleted, nothing written');
  });

  it('collects an unreferenced old pack and keeps every pack the golden backup needs', async () => {
    const { dir, store, packs } = await agedStore();
    const json = jsonOf<RetentionReport>(await retention(store, '-o', 'json'));
    assert.equal(json.deletedPacks, 1, JSON.stringify(json));
    assert.deepEqual(json.unrestorable, []);
    const left = filesUnder(dir);
    assert.deepEqual(
      packs.filter((p) => !left.includes(p)),
      [ORPHAN],
      'only the orphan pack went',
    );
    const verify = await runCli(['catalog', 'verify', '--all', '--store', store]);
    assert.equal(verify.code, 0, explain(verify));
  });

  it('refuses a store with a key it does not know: one line, exit 1, nothing deleted', async () => {
    const { dir, store } = await agedStore();
    writeFileSync(join(dir, 'store', 'notes.txt'), 'not Lifeboat');
    const before = filesUnder(dir);
    const r = await retention(store);
    assert.equal(r.code, 1, explain(r));
    assert.deepEqual(errorLines(r).length, 1, explain(r));
    assert.match(
      errorLines(r)[0]!,
      /^lifeboat: Refusing to sweep file:\/\/.*: 1 keys .*"notes\.txt"/,
    );
    assert.equal(r.stdout, '');
    assert.deepEqual(filesUnder(dir), before, 'the orphan pack too is still there');
  });

  it('exits 1 for an unreadable catalog, lists it, and collects no pack around it', async () => {
    const { dir, store, packs } = await agedStore();
    writeFileSync(join(dir, CATALOG), '{"apiVersion": "lifeboat.dev/v1", "kind": "Cat');
    const r = await retention(store);
    assert.equal(r.code, 1, explain(r));
    assert.match(
      r.stdout,
      /Unreadable catalogs \(nothing collected around them\):\n\s+CLUSTER\s+BACKUP\s+REASON\n\s+local\/local\/source\s+golden\s+Catalog \S+ is not valid JSON/,
    );
    assert.match(r.stdout, /Deleted packs:\s+0\n/);
    const errors = errorLines(r);
    assert.match(
      errors[0] ?? '',
      /^lifeboat: catalog of backup "golden" of local\/local\/source is unreadable: /,
    );
    assert.ok(
      errors.some((l) => /^lifeboat: held: pack collection skipped/.test(l)),
      explain(r),
    );
    const left = filesUnder(dir);
    assert.deepEqual(
      packs.filter((p) => !left.includes(p)),
      [],
      'no pack deleted, not even the orphan',
    );
  });
});
