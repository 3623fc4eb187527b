import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startService, waitUntilReady, type Service } from './process.js';

/** The Pub/Sub emulator that ships with the Google Cloud SDK on the machine. */
export async function startPubSubEmulator(
  workDir: string,
): Promise<{ service: Service; host: string }> {
  mkdirSync(join(workDir, 'pubsub'), { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const service = startService(
    'Pub/Sub emulator',
    'gcloud',
    [
      'beta',
      'emulators',
      'pubsub',
      'start',
      `--host-port=${host}`,
      `--data-dir=${join(workDir, 'pubsub')}`,
      '--quiet',
    ],
    join(workDir, 'pubsub.log'),
  );
  await waitUntilReady(service, async () => (await fetch(`http://${host}/`)).ok, 90_000);
  return { service, host };
}
