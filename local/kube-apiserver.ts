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
  /** kube-cluster: the API server and etcd; stopping it also stops its controller manager. */
  service: Service;
  /** The controller manager kube-cluster runs beside the API server, unless opted out. */
  controllers?: { pid: number; logFile: string };
}

/** How startKubeCluster runs a cluster. */
export interface KubeClusterOptions {
  /**
   * Run kube-controller-manager (default true), as every real cluster does:
   * garbage collection, namespace deletion, workloads, PV binding. Turn it
   * off only where the controllers' work would change what is measured.
   */
  controllers?: boolean;
  /**
   * How often etcd is compacted (default 5s, so that old continue tokens and revisions
   * expire within seconds, as tests of expiry need; the API server's own default is 5m).
   */
  compactionInterval?: string;
}

const scriptDir = dirname(fileURLToPath(import.meta.url));
/** local/build-kube.sh, in the source tree (this file runs from dist/local). */
const buildScript = join(scriptDir, '..', '..', 'local', 'build-kube.sh');

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

/**
 * kube-controller-manager's flags. Every controller a cluster runs by default
 * ("*"), so restores meet what they would in GKE; it is its own only client
 * (no per-controller service accounts), with leader election and its serving
 * port off, so it opens no port at all.
 */
function controllerManagerArgs(dir: string): string[] {
  return [
    '--controllers=*',
    '--leader-elect=false',
    '--secure-port=0',
    '--use-service-account-credentials=false',
    `--service-account-private-key-file=${join(dir, 'sa.key')}`,
    `--root-ca-file=${join(dir, 'certs', 'apiserver.crt')}`,
    // Above the default 20/s, so that deleting a namespace full of test objects takes seconds.
    '--kube-api-qps=100',
    '--kube-api-burst=200',
  ];
}

/**
 * The controller manager's kubeconfig. It names the API server's CA by file,
 * which the API server writes as it starts; kube-cluster starts the
 * controller manager only once the API server is ready.
 */
function controllerManagerKubeconfig(server: string, dir: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'local',
        cluster: { server, 'certificate-authority': join(dir, 'certs', 'apiserver.crt') },
      },
    ],
    users: [{ name: 'kube-controller-manager', user: { token } }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'kube-controller-manager' } }],
    'current-context': 'local',
  });
}

/**
 * Starts one real API server on loopback, with RBAC on and token auth, and
 * (unless opted out) its controller manager, and writes its kubeconfig.
 */
export async function startKubeCluster(
  binary: string,
  workDir: string,
  name: string,
  options: KubeClusterOptions = {},
): Promise<LocalCluster> {
  const withControllers = options.controllers ?? true;
  const dir = join(workDir, name);
  mkdirSync(join(dir, 'certs'), { recursive: true });
  const token = randomBytes(24).toString('hex');
  const unprivilegedToken = randomBytes(24).toString('hex');
  const controllersToken = randomBytes(24).toString('hex');
  writeFileSync(
    join(dir, 'tokens.csv'),
    `${token},admin,admin-uid,system:masters\n${unprivilegedToken},nobody,nobody-uid\n` +
      `${GKE_IDENTITY.token},${GKE_IDENTITY.user},${GKE_IDENTITY.user}-uid,system:masters\n` +
      // Its own user, so the API server's audit and the objects' managedFields name it.
      `${controllersToken},system:kube-controller-manager,kube-controller-manager-uid,system:masters\n`,
    { mode: 0o600 },
  );
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });

  const [port, etcdClient, etcdPeer] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${port}`;
  const controllersLog = join(workDir, `${name}-controller-manager.log`);
  const controllersPidFile = join(dir, 'controller-manager.pid');
  let controllerFlags: string[] = [];
  if (withControllers) {
    const controllersKubeconfig = join(dir, 'controller-manager.kubeconfig');
    writeFileSync(
      controllersKubeconfig,
      controllerManagerKubeconfig(server, dir, controllersToken),
      {
        mode: 0o600,
      },
    );
    controllerFlags = [
      `--controllers-kubeconfig=${controllersKubeconfig}`,
      `--controllers-log=${controllersLog}`,
      `--controllers-pid-file=${controllersPidFile}`,
      ...controllerManagerArgs(dir).map((a) => `--controllers-arg=${a}`),
    ];
  }
  const service = startService(
    `kube-apiserver "${name}"`,
    binary,
    [
      `--etcd-dir=${join(dir, 'etcd')}`,
      `--etcd-client-port=${etcdClient}`,
      `--etcd-peer-port=${etcdPeer}`,
      ...controllerFlags,
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
      `--etcd-compaction-interval=${options.compactionInterval ?? '5s'}`,
      '--max-requests-inflight=800',
      '--max-mutating-requests-inflight=400',
    ],
    join(workDir, `${name}-apiserver.log`),
  );
  let ca = '';
  await waitUntilReady(
    service,
    async () => {
      ca = readFileSync(join(dir, 'certs', 'apiserver.crt'), 'utf8');
      return (await get(`${server}/readyz`, token, ca)).status === 200;
    },
    120_000,
  );
  let controllers: LocalCluster['controllers'];
  if (withControllers) {
    // The service-account controller gives every namespace its "default"
    // ServiceAccount as soon as its informers have synced: once "default"
    // has one, the controllers are running.
    await waitUntilReady(
      service,
      async () =>
        (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, token, ca))
          .status === 200,
      120_000,
    ).catch((error: unknown) => {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n(the controller manager logs to ${controllersLog})`,
      );
    });
    controllers = {
      pid: Number(readFileSync(controllersPidFile, 'utf8')),
      logFile: controllersLog,
    };
  }
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
    ...(controllers ? { controllers } : {}),
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
