import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../shared/store/local-store.js';
import { objectStoreContract } from '../contract/object-store.contract.js';

objectStoreContract(
  'local filesystem',
  async () => new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-store-'))),
);
