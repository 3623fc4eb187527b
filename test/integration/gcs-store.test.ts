import { strict as assert } from 'node:assert';
import { Storage } from '@google-cloud/storage';
import { GcsStore } from '../../shared/store/gcs-store.js';
import { openStore } from '../../shared/store/open-store.js';
import { objectStoreContract } from '../contract/object-store.contract.js';
import { required, unique } from '../../local/settings.js';

function storage(): Storage {
  return new Storage({
    apiEndpoint: required('LIFEBOAT_STORAGE_ENDPOINT'),
    projectId: 'lifeboat-local',
  });
}

async function freshBucket(): Promise<string> {
  const name = unique('bucket');
  await storage().createBucket(name);
  return name;
}

objectStoreContract('Cloud Storage on fake-gcs-server', async () => {
  return new GcsStore(storage(), await freshBucket(), 'lifeboat');
});

describe('Cloud Storage adapter on fake-gcs-server', () => {
  it('keeps objects under the prefix and opens from a gs:// URL', async () => {
    const bucket = await freshBucket();
    const store = openStore(`gs://${bucket}/team-a`);
    await store.put('backups/x', 'hello');
    const [files] = await storage().bucket(bucket).getFiles();
    assert.deepEqual(
      files.map((f) => f.name),
      ['team-a/backups/x'],
    );
    assert.equal(store.url, `gs://${bucket}/team-a`);
  });
});
