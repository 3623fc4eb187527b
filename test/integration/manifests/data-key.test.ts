import { strict as assert } from 'node:assert';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { loadSealer, MissingDataKeyError } from '../../../shared/catalog/data-key.js';
import { LocalKeyWrapper } from '../../../shared/crypto/key-wrapper.js';
import { isRetryable } from '../../../shared/errors.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { gcsStore, policy, sealerFor, SOURCE } from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { create, kubeHttp, R } from '../../../local/kube-requests.js';

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.key);
  return out.sort();
}

describe('a deleted data key is refused, never replaced under the same id (attack)', function () {
  this.timeout(120_000);

  it('refuses the next backup after keys/ was deleted and writes no new key', async () => {
    const http = kubeHttp('source');
    const ns = unique('dek');
    await create(http, R.namespaces, { metadata: { name: ns } });
    await create(http, R.secrets, {
      metadata: { name: 'db', namespace: ns },
      stringData: { password: 'hunter2' },
    });
    const store = await gcsStore();
    const { sealer, encryption, keyFile } = await sealerFor(store);
    const job = {
      cluster: SOURCE,
      policy: policy({
        filters: { includeNamespaces: [ns], excludeResources: ['persistentvolumes'] },
      }),
    };
    const first = unique('dek-first');
    const { catalog } = await runBackup(
      { http, store, sealer, encryption },
      { ...job, backupId: first },
    );
    assert.equal(catalog.encryption?.keyId, encryption.keyId);
    assert.ok(catalog.counts.secrets >= 1, 'the backup sealed a Secret');

    // Whoever can write the bucket deletes the data key.
    await store.delete(Layout.dataKey(encryption.keyId));
    assert.deepEqual(await keys(store, 'keys/'), []);

    // The next backup starts by loading the data key, as the CLI and the functions do.
    const second = unique('dek-second');
    const refused = await loadSealer(store, new LocalKeyWrapper(keyFile))
      .then(async (next) => {
        await runBackup({ http, store, sealer: next, encryption }, { ...job, backupId: second });
        return undefined;
      })
      .catch((error: unknown) => error);
    assert.ok(refused instanceof MissingDataKeyError, `not refused: ${String(refused)}`);
    assert.equal(isRetryable(refused), false);
    assert.match(String(refused), new RegExp(`keys/${encryption.keyId}\\.json`));
    assert.match(String(refused), new RegExp(`${first}/catalog\\.json`));
    assert.deepEqual(await keys(store, 'keys/'), [], 'no new data key written');
    assert.deepEqual(
      await keys(store, Layout.backupDir(SOURCE, second)),
      [],
      'the refused backup wrote nothing',
    );
  });
});
