import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort, startService, waitUntilReady, type Service } from './process.js';

export interface LocalCluster {
  name: string;
  server: string;
  /** A bearer token of a member of system:masters. */
  token: string;
  /** A bearer token of a user that RBAC grants nothing, to prove RBAC is on. */
  unprivilegedToken: string;
  /** GKE_IDENTITY's token: the same on every API server of this process. */
  gkeToken: string;
  caData: string;
  kubeconfig: string;
  service: Service;
}

const scriptDir = dirname(fileURLToPath(import.meta.url));
/** test/env/build-kube.sh, in the source tree (this file runs from dist/test/env). */
const buildScript = join(scriptDir, '..', '..', '..', 'test', 'env', 'build-kube.sh');

/** Builds (first run) or finds (cached) the kube-cluster binary: kube-apiserver with embedded etcd. */
export function buildKubeCluster(): string {
  process.stderr.write('[env] kube-apiserver: build-kube.sh (cached after the first build)\n');
  return execFileSync('bash', [buildScript], { stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim();
}

function get(url: string, token: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5000 },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/**
 * The identity functions have in GKE mode: the OAuth access token of their
 * service account, which the metadata stand-in hands out and every local
 * API server accepts (user gke-function, a member of system:masters), as
 * each GKE cluster accepts the token of a service account IAM lets in.
 */
export const GKE_IDENTITY = {
  user: 'gke-function',
  token: `ya29.local-${randomBytes(24).toString('hex')}`,
} as const;

/** Starts one real API server on loopback, with RBAC on and token auth, and writes its kubeconfig. */
export async function startKubeCluster(
  binary: string,
  workDir: string,
  name: string,
): Promise<LocalCluster> {
  const dir = join(workDir, name);
  mkdirSync(join(dir, 'certs'), { recursive: true });
  const token = randomBytes(24).toString('hex');
  const unprivilegedToken = randomBytes(24).toString('hex');
  writeFileSync(
    join(dir, 'tokens.csv'),
    `${token},admin,admin-uid,system:masters\n${unprivilegedToken},nobody,nobody-uid\n` +
      `${GKE_IDENTITY.token},${GKE_IDENTITY.user},${GKE_IDENTITY.user}-uid,system:masters\n`,
    { mode: 0o600 },
  );
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });

  const [port, etcdClient, etcdPeer] = [await freePort(), await freePort(), await freePort()];
  const service = startService(
    `kube-apiserver "${name}"`,
    binary,
    [
      `--etcd-dir=${join(dir, 'etcd')}`,
      `--etcd-client-port=${etcdClient}`,
      `--etcd-peer-port=${etcdPeer}`,
      '--',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, 'certs')}`,
      '--authorization-mode=RBAC',
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.key')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--service-node-port-range=30000-32767',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      // Compacting often makes old continue tokens expire (410) within seconds, as tests need.
      '--etcd-compaction-interval=5s',
      '--max-requests-inflight=800',
      '--max-mutating-requests-inflight=400',
    ],
    join(workDir, `${name}-apiserver.log`),
  );
  const server = `https://127.0.0.1:${port}`;
  let ca = '';
  await waitUntilReady(
    service,
    async () => {
      ca = readFileSync(join(dir, 'certs', 'apiserver.crt'), 'utf8');
      return (await get(`${server}/readyz`, token, ca)).status === 200;
    },
    120_000,
  );
  const caData = Buffer.from(ca).toString('base64');
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml([{ name, server, caData, token }]), { mode: 0o600 });
  return {
    name,
    server,
    token,
    unprivilegedToken,
    gkeToken: GKE_IDENTITY.token,
    caData,
    kubeconfig,
    service,
  };
}

/** A kubeconfig with one context per cluster, named after it; the first is current. */
export function kubeconfigYaml(
  clusters: { name: string; server: string; caData: string; token: string }[],
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: clusters.map((c) => ({
      name: c.name,
      cluster: { server: c.server, 'certificate-authority-data': c.caData },
    })),
    users: clusters.map((c) => ({ name: `${c.name}-admin`, user: { token: c.token } })),
    contexts: clusters.map((c) => ({
      name: c.name,
      context: { cluster: c.name, user: `${c.name}-admin` },
    })),
    'current-context': clusters[0]?.name ?? '',
  });
}

export async function serverVersion(cluster: LocalCluster): Promise<string> {
  const ca = Buffer.from(cluster.caData, 'base64').toString();
  const { body } = await get(`${cluster.server}/version`, cluster.token, ca);
  return (JSON.parse(body) as { gitVersion: string }).gitVersion;
}
