import { chmodSync, cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalKeyWrapper } from '../../shared/crypto/key-wrapper.js';
import { loadSealer } from '../../shared/catalog/data-key.js';
import type { Sealer } from '../../shared/crypto/sealer.js';
import { LocalStore } from '../../shared/store/local-store.js';

/** test/fixtures/golden, in the source tree (fixtures are not compiled). */
export const GOLDEN_DIR = fileURLToPath(new URL('../../../test/fixtures/golden/', import.meta.url));

/** Every released format's golden store: format-1, format-2, ... */
export const goldenFormats = (): string[] =>
  readdirSync(GOLDEN_DIR)
    .filter((d) => /^format-\d+$/.test(d))
    .sort();

/** A private copy of a golden store, so no test can change the fixture. */
export async function goldenCopy(
  format: string,
): Promise<{ dir: string; store: LocalStore; keyFile: string; sealer: Sealer }> {
  const dir = join(mkdtempSync(join(tmpdir(), `lifeboat-golden-${format}-`)), format);
  cpSync(join(GOLDEN_DIR, format), dir, { recursive: true });
  const keyFile = join(dir, 'lifeboat.key');
  chmodSync(keyFile, 0o600); // git does not keep modes tighter than 644
  const store = new LocalStore(join(dir, 'store'));
  const sealer = await loadSealer(store, new LocalKeyWrapper(keyFile));
  return { dir, store, keyFile, sealer };
}
