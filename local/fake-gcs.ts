import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache.js';
import { freePort, startService, waitUntilReady, type Service } from './process.js';

export const FAKE_GCS_VERSION = 'v1.52.2';

/** Installs fake-gcs-server with `go install` at the pinned version, once per cache. */
export function installFakeGcs(): string {
  const bin = join(cacheDir(), `fake-gcs-server-${FAKE_GCS_VERSION}`);
  const exe = join(bin, 'fake-gcs-server');
  if (!existsSync(exe)) {
    process.stderr.write(`[env] go install fake-gcs-server@${FAKE_GCS_VERSION} (first run only)\n`);
    execFileSync('go', ['install', `github.com/fsouza/fake-gcs-server@${FAKE_GCS_VERSION}`], {
      env: { ...process.env, GOBIN: bin, GOFLAGS: '-trimpath' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return exe;
}

/** fake-gcs-server with the memory backend over plain HTTP. */
export async function startFakeGcs(workDir: string): Promise<{ service: Service; host: string }> {
  const exe = installFakeGcs();
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const service = startService(
    'fake-gcs-server',
    exe,
    [
      '-backend',
      'memory',
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      '-public-host',
      host,
      '-log-level',
      'warn',
    ],
    join(workDir, 'fake-gcs.log'),
  );
  await waitUntilReady(
    service,
    async () => (await fetch(`http://${host}/storage/v1/b`)).ok,
    30_000,
  );
  return { service, host };
}
