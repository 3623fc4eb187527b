import { strict as assert } from 'node:assert';
import { pathToFileURL } from 'node:url';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { LocalStore } from '../../../shared/store/local-store.js';
import { KmsStandin } from '../../../local/standins/kms/server.js';
import { unique } from '../../../local/settings.js';
import { KmsAdmin } from '../../../local/kms-admin.js';
import { create, get, kubeHttp, R } from '../../../local/kube-requests.js';
import { errorLines, explain, runCli } from '../../unit/cli/run-cli.js';
import { jsonOf, kubeconfigs, newKeyFile, tempDir } from './cli-env.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };

/** The CLI in-process with --kms-key: the data key wrapped with a key on the Cloud KMS stand-in. */
describe('lifeboat with a Cloud KMS key (--kms-key)', function () {
  this.timeout(300_000);
  let kms: KmsStandin;
  let admin: KmsAdmin;
  let keyName: string;
  let dir: string;
  let store: string;
  const ns = unique('cli-kms');
  const backupId = unique('cli-kms');
  const env = (): Record<string, string | undefined> => ({
    LIFEBOAT_KMS_ENDPOINT: kms.url,
    LIFEBOAT_KEY_FILE: undefined,
    LIFEBOAT_KMS_KEY: undefined,
  });

  before(async () => {
    kms = await KmsStandin.start();
    admin = new KmsAdmin(kms);
    keyName = await admin.createKey({
      project: 'prod-project',
      location: 'europe-west1',
      keyRing: 'lifeboat',
      key: 'catalog',
    });
    dir = tempDir('cli-kms');
    store = pathToFileURL(dir).href;
    const http = kubeHttp('source');
    await create(http, R.namespaces, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    await create(http, R.secrets, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: ns },
      stringData: { password: 'correct horse' },
    });
  });
  after(async () => {
    await admin?.close();
    await kms?.stop();
  });

  it('backup create seals Secrets under a data key wrapped with the KMS key', async () => {
    const summary = jsonOf<{ phase: string; counts: { secrets: number } }>(
      await runCli(
        [
          ...['backup', 'create', backupId, '--kubeconfig', kubeconfigs.source()],
          ...['--store', store, '--include-namespaces', ns, '--snapshot-volumes=false'],
          ...['--kms-key', keyName, '-o', 'json'],
        ],
        env(),
      ),
    );
    assert.equal(summary.phase, 'Completed');
    assert.equal(summary.counts.secrets, 1);
    const catalog = await readCatalog(new LocalStore(dir), SOURCE, backupId);
    assert.equal(catalog.encryption?.wrappedBy, `kms:${keyName}`);
    assert.deepEqual(
      kms.uses.map((u) => [u.method, u.version.split('/').pop()]),
      [
        ['encrypt', '1'],
        ['decrypt', '1'],
      ],
    );
  });

  it('after a rotation, catalog verify and restore create open the Secrets (LIFEBOAT_KMS_KEY works too)', async () => {
    await admin.rotate(keyName);
    const verified = jsonOf<{ verified: boolean; secrets: { sealed: number; opened: number } }>(
      await runCli(
        ['catalog', 'verify', backupId, '--store', store, '--kms-key', keyName, '-o', 'json'],
        env(),
      ),
    );
    assert.deepEqual(verified.secrets, { sealed: 1, opened: 1 });
    const copy = `${ns}-copy`;
    const report = jsonOf<{ phase: string }>(
      await runCli(
        [
          ...['restore', 'create', '--from-backup', backupId, '--kubeconfig', kubeconfigs.target()],
          ...['--store', store, '--namespace-mappings', `${ns}:${copy}`, '-o', 'json'],
        ],
        { ...env(), LIFEBOAT_KMS_KEY: keyName },
      ),
    );
    assert.equal(report.phase, 'Completed');
    const secret = await get(kubeHttp('target'), R.secrets, copy, 'db');
    const data = secret?.['data'] as { password: string };
    assert.equal(Buffer.from(data.password, 'base64').toString(), 'correct horse');
  });

  it('exactly one key: a key file and a KMS key together are refused, and a key file is not the KMS key', async () => {
    const keyFile = newKeyFile();
    const both = await runCli(
      [
        'catalog',
        'verify',
        backupId,
        '--store',
        store,
        '--kms-key',
        keyName,
        '--key-file',
        keyFile,
      ],
      env(),
    );
    assert.equal(both.code, 2, explain(both));
    assert.match(errorLines(both)[0] ?? '', /--key-file and --kms-key are both set/);
    const bothEnv = await runCli(['catalog', 'verify', backupId, '--store', store], {
      ...env(),
      LIFEBOAT_KEY_FILE: keyFile,
      LIFEBOAT_KMS_KEY: keyName,
    });
    assert.equal(bothEnv.code, 2, explain(bothEnv));
    assert.match(
      errorLines(bothEnv)[0] ?? '',
      /LIFEBOAT_KEY_FILE and LIFEBOAT_KMS_KEY are both set/,
    );
    const wrong = await runCli(
      ['catalog', 'verify', backupId, '--store', store, '--key-file', keyFile],
      env(),
    );
    assert.notEqual(wrong.code, 0, explain(wrong));
    assert.match(
      wrong.stderr,
      new RegExp(`is not the key this backup's Secrets were sealed with \\(kms:${keyName}\\)`),
    );
    const malformed = await runCli(
      ['catalog', 'verify', backupId, '--store', store, '--kms-key', 'catalog'],
      env(),
    );
    assert.equal(malformed.code, 2, explain(malformed));
    assert.match(errorLines(malformed)[0] ?? '', /must be a key resource name/);
  });

  it('a disabled key version fails with the key named and what to do', async () => {
    const v1 = `${keyName}/cryptoKeyVersions/1`;
    await admin.setState(v1, 'DISABLED');
    try {
      const r = await runCli(
        [
          'catalog',
          'export',
          backupId,
          '--store',
          store,
          '--kms-key',
          keyName,
          '--dir',
          tempDir('export'),
        ],
        env(),
      );
      assert.notEqual(r.code, 0, explain(r));
      assert.match(
        errorLines(r)[0] ?? '',
        new RegExp(
          `Cloud KMS key ${keyName} could not unwrap .*current state is: DISABLED.*gcloud kms keys versions enable 1`,
        ),
      );
    } finally {
      await admin.setState(v1, 'ENABLED');
    }
  });
});
