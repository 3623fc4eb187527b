/**
 * What a cluster needs before `velero server` can run against it out of
 * cluster: Velero's CRDs, its namespace, a Deployment `velero` with no
 * replicas (Velero reads its own Deployment at every restore and fails
 * without it), and a backup storage location on fake-gcs-server.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { stringify } from 'yaml';
import { VELERO_NAMESPACE, type VeleroBuild } from './velero-server.js';

export const VELERO_BUCKET = 'velero-bench';

function kubectl(kubeconfig: string, args: string[], input?: string): string {
  try {
    return execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`kubectl ${args.slice(0, 3).join(' ')} failed: ${stderr.trim()}`, {
      cause: error,
    });
  }
}

/** Reads a velero.io object as JSON (a Backup or a Restore), or undefined when absent. */
export function getVeleroObject(
  kubeconfig: string,
  kind: 'backups' | 'restores',
  name: string,
): Record<string, unknown> | undefined {
  try {
    return JSON.parse(
      kubectl(kubeconfig, ['get', `${kind}.velero.io`, name, '-n', VELERO_NAMESPACE, '-o', 'json']),
    ) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof Error && error.message.includes('NotFound')) return undefined;
    throw error;
  }
}

/** The bucket Velero writes to, on fake-gcs-server. */
export async function ensureVeleroBucket(endpoint: string): Promise<void> {
  const storage = new Storage({ apiEndpoint: endpoint, projectId: 'lifeboat-local' });
  const [exists] = await storage.bucket(VELERO_BUCKET).exists();
  if (!exists) await storage.createBucket(VELERO_BUCKET);
}

/** A service-account key nobody can use: the GCP plugin wants one, fake-gcs-server checks none. */
export function dummyServiceAccountKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const file = join(mkdtempSync(join(tmpdir(), 'lifeboat-velero-key-')), 'key.json');
  writeFileSync(
    file,
    JSON.stringify({
      type: 'service_account',
      project_id: 'lifeboat-local',
      private_key_id: 'dummy',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: 'velero@lifeboat-local.iam.gserviceaccount.com',
      client_id: '1',
      token_uri: 'http://127.0.0.1:1/token',
    }),
    { mode: 0o600 },
  );
  return file;
}

/** Installs Velero's CRDs and objects into one cluster; `prefix` keeps runs apart in the bucket. */
export function prepareCluster(build: VeleroBuild, kubeconfig: string, prefix: string): void {
  const crds = execFileSync(
    build.velero,
    ['install', '--crds-only', '--dry-run', '-o', 'yaml', '--kubeconfig', kubeconfig],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  // Server-side: the CRDs are too large for client-side apply's last-applied annotation.
  kubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', '-'], crds);
  kubectl(kubeconfig, [
    'wait',
    '--for',
    'condition=established',
    'crd',
    '-l',
    'component=velero',
    '--timeout',
    '120s',
  ]);
  const labels = { component: 'velero', deploy: 'velero' };
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: VELERO_NAMESPACE } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'velero', namespace: VELERO_NAMESPACE, labels },
      spec: {
        replicas: 0,
        selector: { matchLabels: { deploy: 'velero' } },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'velero', image: 'velero/velero:v1.18.3' }] },
        },
      },
    },
    {
      apiVersion: 'velero.io/v1',
      kind: 'BackupStorageLocation',
      metadata: { name: 'default', namespace: VELERO_NAMESPACE },
      spec: {
        provider: 'velero.io/gcp',
        default: true,
        objectStorage: { bucket: VELERO_BUCKET, prefix },
      },
    },
  ];
  kubectl(kubeconfig, ['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
}
