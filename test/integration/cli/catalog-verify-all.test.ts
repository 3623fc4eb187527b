import { strict as assert } from 'node:assert';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { goldenCopy, goldenFormats } from '../../support/golden.js';
import { errorLines, explain, runCli, type CliResult } from '../../unit/cli/run-cli.js';
import { jsonOf, newKeyFile } from './cli-env.js';

interface Scrub {
  items: {
    cluster: { name: string };
    backupId: string;
    phase?: string;
    result: 'verified' | 'not-restorable' | 'incomplete';
    reason?: string;
    objects?: number;
    packs?: number;
    secrets?: { sealed: number; opened: number };
  }[];
  summary: { backups: number; verified: number; notRestorable: number; incomplete: number };
}

const BACKUP_DIR = join('store', 'backups', 'local.local.source', 'golden');

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

const storeOf = (dir: string): string => pathToFileURL(join(dir, 'store')).href;

const verifyAll = (dir: string, ...extra: string[]): Promise<CliResult> =>
  runCli(['catalog', 'verify', '--all', '--store', storeOf(dir), ...extra]);

describe('lifeboat catalog verify --all (a scrub of the store)', function () {
  this.timeout(120_000);

  for (const format of goldenFormats()) {
    it(`verifies the ${format} golden backup and opens its Secrets with the key`, async () => {
      const { dir, keyFile } = await goldenCopy(format);
      // What its catalog says it holds (format 3's was taken with controllers running: more).
      const objects = (
        JSON.parse(readFileSync(join(dir, BACKUP_DIR, 'catalog.json'), 'utf8')) as {
          counts: { objects: number };
        }
      ).counts.objects;
      const table = await verifyAll(dir, '--key-file', keyFile);
      assert.equal(table.code, 0, explain(table));
      assert.match(
        table.stdout,
        // Format 1 predates sealed catalogs; every later golden store was sealed when written.
        new RegExp(
          `^local/local/source\\s+golden\\s+Completed\\s+verified\\s+${objects} objects, \\d+ packs, 4 secrets opened, ${format === 'format-1' ? 'unauthenticated' : 'authenticated'}$`,
          'm',
        ),
      );
      assert.match(table.stdout, /^1 backup: 1 verified, 0 not restorable, 0 incomplete$/m);
      assert.equal(table.stderr, '', 'no progress when stderr is not a terminal');
      const json = jsonOf<Scrub>(await verifyAll(dir, '--key-file', keyFile, '-o', 'json'));
      assert.deepEqual(json.summary, { backups: 1, verified: 1, notRestorable: 0, incomplete: 0 });
      assert.equal(json.items[0]?.result, 'verified');
      assert.deepEqual(json.items[0]?.secrets, { sealed: 4, opened: 4 });
    });
  }

  it('lists a backup without a catalog as incomplete, which does not fail the scrub', async () => {
    const { dir } = await goldenCopy('format-2');
    const running = join(dir, 'store', 'backups', 'local.local.source', 'running', 'parts');
    cpSync(join(dir, BACKUP_DIR, 'parts', 'plan.json'), join(running, 'plan.json'));
    const r = await verifyAll(dir);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /^local\/local\/source\s+running\s+-\s+incomplete\s+no catalog/m);
    assert.match(r.stdout, /4 secrets not opened \(no --key-file\)/);
    assert.match(r.stdout, /^2 backups: 1 verified, 0 not restorable, 1 incomplete$/m);
  });

  it('exits 1 with NOT RESTORABLE naming the pack when one pack is gone', async () => {
    const { dir, keyFile } = await goldenCopy('format-1');
    const pack = filesUnder(dir).find((f) => f.endsWith('.jsonl.gz'))!;
    const digest = /([0-9a-f]{64})\.jsonl\.gz$/.exec(pack)![1]!;
    rmSync(join(dir, pack));
    const r = await verifyAll(dir, '--key-file', keyFile);
    assert.equal(r.code, 1, explain(r));
    assert.match(
      r.stdout,
      new RegExp(
        `^local/local/source\\s+golden\\s+Completed\\s+NOT RESTORABLE\\s+.*pack ${digest}.* is missing`,
        'm',
      ),
    );
    assert.match(r.stdout, /^1 backup: 0 verified, 1 not restorable, 0 incomplete$/m);
    assert.equal(errorLines(r).length, 1, explain(r));
    assert.match(
      errorLines(r)[0]!,
      new RegExp(`backup "golden" of local/local/source is not restorable: .*${digest}`),
    );
  });

  it('exits 1 for a catalog changed after the backup (digest) and one that is not JSON', async () => {
    const tampered = await goldenCopy('format-2');
    const catalogFile = join(tampered.dir, BACKUP_DIR, 'catalog.json');
    const text = readFileSync(catalogFile, 'utf8');
    const changed = text.replace('"kubernetesVersion": "v1.33.', '"kubernetesVersion": "v1.34.');
    assert.notEqual(changed, text, 'the catalog changed');
    writeFileSync(catalogFile, changed);
    const json = jsonOf<Scrub>(await verifyAll(tampered.dir, '-o', 'json'), 1);
    assert.equal(json.items[0]?.result, 'not-restorable');
    assert.equal(json.items[0]?.phase, undefined, 'a catalog that fails its digest has no phase');
    assert.match(json.items[0]?.reason ?? '', /does not match its digest/);

    const truncated = await goldenCopy('format-1');
    writeFileSync(join(truncated.dir, BACKUP_DIR, 'catalog.json'), text.slice(0, 200));
    const r = await verifyAll(truncated.dir);
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stdout, /NOT RESTORABLE\s+Catalog \S+ is not valid JSON/);
  });

  it("exits 1 for a catalog that lies in another backup's folder", async () => {
    const { dir } = await goldenCopy('format-1');
    cpSync(join(dir, BACKUP_DIR), join(dir, BACKUP_DIR, '..', 'moved'), { recursive: true });
    const r = await verifyAll(dir);
    assert.equal(r.code, 1, explain(r));
    assert.match(
      r.stdout,
      /^local\/local\/source\s+moved\s+-\s+NOT RESTORABLE\s+Catalog \S+\/moved\/catalog\.json names backup golden of local\.local\.source: it is not where that backup's catalog belongs/m,
    );
    assert.match(r.stdout, /^2 backups: 1 verified, 1 not restorable, 0 incomplete$/m);
  });

  it('exits 1 for a catalog of a newer format, naming the version that reads it', async () => {
    const { dir } = await goldenCopy('format-2');
    const catalogFile = join(dir, BACKUP_DIR, 'catalog.json');
    const catalog = JSON.parse(readFileSync(catalogFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      catalogFile,
      JSON.stringify({ ...catalog, formatVersion: 99, writtenBy: 'lifeboat 9.0.0' }),
    );
    const json = jsonOf<Scrub>(await verifyAll(dir, '-o', 'json'), 1);
    assert.match(json.items[0]?.reason ?? '', /catalog format 99, written by lifeboat 9\.0\.0/);
  });

  it('exits 1 when the sealed Secrets do not open with the key file given', async () => {
    const { dir } = await goldenCopy('format-1');
    const r = await verifyAll(dir, '--key-file', newKeyFile());
    assert.equal(r.code, 1, explain(r));
    assert.match(
      r.stdout,
      /NOT RESTORABLE\s+key file .* is not the key this backup's Secrets were sealed with/,
    );
  });

  it('exits 1, and writes nothing, when the data key is gone from the store', async () => {
    const { dir, keyFile } = await goldenCopy('format-2');
    rmSync(join(dir, 'store', 'keys'), { recursive: true });
    const before = filesUnder(dir);
    const r = await verifyAll(dir, '--key-file', keyFile);
    assert.equal(r.code, 1, explain(r));
    assert.match(
      r.stdout,
      /NOT RESTORABLE\s+the data key that sealed this backup's Secrets \(keys\/dek-\w+\.json\) is missing/,
    );
    assert.deepEqual(filesUnder(dir), before, 'no data key was created');
  });

  describe('arguments', () => {
    for (const [title, args, message] of [
      ['NAME and --all together', ['golden', '--all'], /pass a backup NAME or --all, not both/],
      ['neither NAME nor --all', [], /missing backup NAME: pass one, or --all/],
      [
        '--cluster with --all',
        ['--all', '--cluster', 'local/local/source'],
        /--all checks every cluster/,
      ],
    ] as const) {
      it(`${title} is a usage error (exit 2)`, async () => {
        const r = await runCli(['catalog', 'verify', ...args, '--store', 'file:///nowhere']);
        assert.equal(r.code, 2, explain(r));
        assert.equal(errorLines(r).length, 1, explain(r));
        assert.match(errorLines(r)[0]!, message);
        assert.equal(r.stdout, '');
      });
    }
  });
});
