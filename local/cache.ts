import { homedir } from 'node:os';
import { join } from 'node:path';

/** Builds and installs are cached outside the repo, keyed by version, so later runs start in seconds. */
export function cacheDir(): string {
  return process.env['LIFEBOAT_CACHE'] ?? join(homedir(), '.cache', 'lifeboat');
}
