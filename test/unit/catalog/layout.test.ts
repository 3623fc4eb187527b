import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyKey, Layout, type KeyKind } from '../../../shared/catalog/layout.js';
import type { ClusterRef } from '../../../shared/messages/common.js';
import { LIFEBOAT_VERSION } from '../../../shared/version.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

const CLUSTER: ClusterRef = { project: 'my-project', location: 'us-central1', name: 'prod' };
const CLUSTER_KEY = 'my-project.us-central1.prod';
const BACKUP_ID = 'nightly-20260615-0200-a1b2';
const DIGEST = createHash('sha256').update('a pack').digest('hex');

const backup = (file: string): KeyKind => ({
  kind: 'backup',
  clusterKey: CLUSTER_KEY,
  backupId: BACKUP_ID,
  file: file as Extract<KeyKind, { kind: 'backup' }>['file'],
});

describe('store layout: classifyKey is the inverse of Layout', () => {
  const built: [string, string, KeyKind][] = [
    ['catalog', Layout.catalog(CLUSTER, BACKUP_ID), backup('catalog')],
    ['seal', Layout.seal(CLUSTER, BACKUP_ID), backup('seal')],
    ['restore lease', Layout.lease(CLUSTER, BACKUP_ID, 'dr-20260615'), backup('lease')],
    ['lock', Layout.lock(CLUSTER, BACKUP_ID), backup('lock')],
    ['expiring marker', Layout.expiring(CLUSTER, BACKUP_ID), backup('expiring')],
    ['announcement', Layout.announced(CLUSTER, BACKUP_ID), backup('announced')],
    ['announcement claim', Layout.announceClaim(CLUSTER, BACKUP_ID, 1), backup('announce-claim')],
    [
      'failed delivery of a segment',
      Layout.failedAttempt(CLUSTER, BACKUP_ID, 'manifests/configmaps/00012', 3),
      backup('attempt'),
    ],
    [
      'failed delivery of a volume job',
      Layout.failedAttempt(CLUSTER, BACKUP_ID, 'volumes/pvc-0a1b2c3d', 1),
      backup('attempt'),
    ],
    ['plan', Layout.plan(CLUSTER, BACKUP_ID), backup('plan')],
    [
      'manifest part',
      Layout.part(CLUSTER, BACKUP_ID, 'manifests/deployments.apps/00000'),
      backup('part'),
    ],
    [
      'manifest part of a later segment',
      Layout.part(CLUSTER, BACKUP_ID, 'manifests/configmaps/00012'),
      backup('part'),
    ],
    ['volume part', Layout.part(CLUSTER, BACKUP_ID, 'volumes/pvc-0a1b2c3d'), backup('part')],
    ['pack', Layout.pack(DIGEST), { kind: 'pack', digest: DIGEST }],
    ['deleted-cluster marker', Layout.deletedMarker(CLUSTER), { kind: 'other' }],
    ['restore report', Layout.report('dr-20260615'), { kind: 'other' }],
    ['restore progress', Layout.restoreProgress('dr-20260615'), { kind: 'other' }],
    ['data key', Layout.dataKey('dek-ff5b18b00e73f919'), { kind: 'other' }],
    ['store marker', Layout.storeMarker(), { kind: 'other' }],
  ];

  for (const [what, key, expected] of built) {
    it(`classifies a ${what} key (${key})`, () => {
      assert.deepEqual(classifyKey(key), expected);
    });
  }

  it('builds the keys it classifies under the backup folder of the cluster', () => {
    // The backup keys above really are where the catalog of that backup lives.
    assert.equal(
      Layout.catalog(CLUSTER, BACKUP_ID),
      `backups/${CLUSTER_KEY}/${BACKUP_ID}/catalog.json`,
    );
    assert.ok(Layout.pack(DIGEST).startsWith(`objects/sha256/${DIGEST.slice(0, 2)}/`));
  });

  const foreign: [string, string][] = [
    ['a file at the store root', 'notes.txt'],
    ['a JSON file at the store root', 'catalog.json'],
    ['a backup folder with no file', `backups/${CLUSTER_KEY}/${BACKUP_ID}`],
    ['backups/x/y, no file', 'backups/x/y'],
    [
      'a pack under the wrong prefix directory',
      `objects/sha256/ab/${'cd'.padEnd(64, '0')}.jsonl.gz`,
    ],
    ['a pack whose name is not a SHA-256', 'objects/sha256/ab/ab12.jsonl.gz'],
    ['a pack without its extension', `objects/sha256/${DIGEST.slice(0, 2)}/${DIGEST}`],
    ['an unknown file in a backup folder', `backups/a.b.c/${BACKUP_ID}/other.json`],
    ['an unknown file in a backup folder with an upper-case id', 'backups/a.b.c/ID/other.json'],
    ['a part that is neither manifests nor volumes', `backups/a.b.c/${BACKUP_ID}/parts/x.json`],
    [
      'a manifest part whose segment is not a number',
      `backups/a.b.c/${BACKUP_ID}/parts/manifests/configmaps/latest.json`,
    ],
    ['a temporary file', 'tmp/foo'],
    ['a restore file Layout does not write', 'restores/dr-1/notes.json'],
    ['a key nested under keys/', 'keys/a/b.json'],
  ];

  for (const [what, key] of foreign) {
    it(`classifies ${what} (${key}) as unknown`, () => {
      assert.deepEqual(classifyKey(key), { kind: 'unknown' });
    });
  }
});

describe('store layout: cluster keys', () => {
  it('parses a cluster key back into the cluster it was built from', () => {
    assert.equal(Layout.clusterKey(CLUSTER), CLUSTER_KEY);
    assert.deepEqual(Layout.parseClusterKey(CLUSTER_KEY), CLUSTER);
    const local = { project: 'local', location: 'local', name: 'source' };
    assert.deepEqual(Layout.parseClusterKey(Layout.clusterKey(local)), local);
  });

  for (const key of ['', 'a', 'a.b', 'a.b.c.d', 'a..c', '.b.c', 'a.b.']) {
    it(`refuses "${key}" as a cluster key`, () => {
      assert.equal(Layout.parseClusterKey(key), undefined);
    });
  }
});

describe('version', () => {
  it('LIFEBOAT_VERSION is the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.match(pkg.version, /^\d+\.\d+\.\d+/);
    assert.equal(LIFEBOAT_VERSION, pkg.version);
  });
});
