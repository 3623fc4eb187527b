/**
 * `npm run demo`: the disaster-recovery story, for real, on this machine.
 * A namespace with the hello app and WordPress on MySQL (with persistent
 * disks holding a blog post) is backed up by a scheduled tick through the
 * pipeline; the cluster is deleted (its API server stopped, the audit entry
 * published); Lifeboat restores it into the standby cluster on its own; then
 * every object, every volume binding and the blog post's bytes are checked.
 * Last, a restore drill proves the same backup again, as a schedule would:
 * restored into drill namespaces, compared with its catalog, timed (its RTO)
 * and removed.
 */
import { readCatalog } from '../shared/catalog/catalog-io.js';
import type { KubeHttp } from '../shared/kube/kube-http.js';
import { API_VERSION } from '../shared/messages/index.js';
import { startEnvironment, type LocalEnvironment } from '../local/environment.js';
import { startLocalLifeboat, type LocalLifeboat } from '../local/local-lifeboat.js';
import { stopService } from '../local/process.js';
import { Inbox } from '../local/inbox.js';
import { get, kubeHttpOf } from '../local/kube-requests.js';
import { BLOG_POST, DISKS, NAMESPACE, PROJECT, ZONE, deployMyapp, myappObjects } from './myapp.js';

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const TARGET = { project: 'local', location: 'local', name: 'target' };
/**
 * The one backup policy deployed, as Terraform renders it into every
 * function: what the scheduler may back up, and (standbyCluster) the restore
 * plan it implies, standby:nightly. Messages can ask for nothing else.
 */
const NIGHTLY = {
  name: 'nightly',
  projects: ['local'],
  clusterNames: ['source'],
  filters: { includeNamespaces: [NAMESPACE] },
  standbyCluster: TARGET,
};
/**
 * The drill policy deployed: drills of the source cluster's backups, into
 * the standby cluster (its only drill cluster), volumes included.
 */
const WEEKLY_DRILL = {
  name: 'weekly-drill',
  projects: ['local'],
  clusterNames: ['source'],
  backupPolicies: [NIGHTLY.name],
  drillCluster: TARGET,
  namespaces: [NAMESPACE],
  timeoutSeconds: 600,
};
type Msg = Record<string, unknown>;

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const step = (n: number, text: string): void => say(`\n[${n}/7] ${text}`);

interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

async function verify(
  lb: LocalLifeboat,
  target: KubeHttp,
  originals: Map<string, Buffer>,
): Promise<Check[]> {
  const checks: Check[] = [];
  for (const { ref, body } of myappObjects()) {
    if (ref.resource === 'persistentvolumes') continue; // restored under the new disks' names, checked below
    const { name, namespace } = (body as { metadata: { name: string; namespace?: string } })
      .metadata;
    const live = await get(target, ref, namespace, name);
    checks.push({
      what: `${ref.resource.replace(/s$/, '')} ${namespace ? `${namespace}/` : ''}${name}`,
      ok: live !== undefined,
      detail: live ? 'restored' : 'missing',
    });
  }
  const secret = await get(
    target,
    { group: '', version: 'v1', resource: 'secrets', namespaced: true },
    NAMESPACE,
    'mysql',
  );
  const password = Buffer.from(
    (secret?.['data'] as Record<string, string> | undefined)?.['password'] ?? '',
    'base64',
  ).toString();
  checks.push({
    what: 'secret mysql (decrypted from the catalog)',
    ok: password === 'YOUR_PASSWORD',
    detail: password === 'YOUR_PASSWORD' ? 'value intact' : 'value differs',
  });
  for (const [claim, sourceDisk] of [
    ['mysql-volumeclaim', DISKS.mysql],
    ['wordpress-volumeclaim', DISKS.wordpress],
  ] as const) {
    const pvc = await get(
      target,
      { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true },
      NAMESPACE,
      claim,
    );
    const volumeName = (pvc?.['spec'] as { volumeName?: string } | undefined)?.volumeName;
    const pv = volumeName
      ? await get(
          target,
          { group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false },
          undefined,
          volumeName,
        )
      : undefined;
    const claimRef = (
      pv?.['spec'] as { claimRef?: { namespace: string; name: string } } | undefined
    )?.claimRef;
    const handle =
      (pv?.['spec'] as { csi?: { volumeHandle?: string } } | undefined)?.csi?.volumeHandle ?? '';
    const [, project, , zone, , disk] = handle.split('/');
    const bound =
      claimRef?.namespace === NAMESPACE &&
      claimRef.name === claim &&
      disk !== undefined &&
      disk !== sourceDisk;
    checks.push({
      what: `PVC ${claim} bound to a disk restored from its snapshot`,
      ok: bound,
      detail: bound
        ? `PV ${volumeName} -> ${handle}`
        : `PV ${volumeName ?? 'none'} handle ${handle || 'none'}`,
    });
    let bytes: Buffer | undefined;
    try {
      bytes =
        disk && project && zone ? lb.compute.readDisk({ project, zone, name: disk }) : undefined;
    } catch {
      bytes = undefined;
    }
    const same = bytes !== undefined && bytes.equals(originals.get(sourceDisk) ?? Buffer.alloc(0));
    checks.push({
      what: `data on ${claim}'s disk`,
      ok: same,
      detail: same
        ? `${bytes?.length} bytes identical to the source disk`
        : 'bytes differ or disk missing',
    });
  }
  return checks;
}

async function main(): Promise<number> {
  const started = Date.now();
  let env: LocalEnvironment | undefined;
  let lb: LocalLifeboat | undefined;
  const inboxes: Inbox<Msg>[] = [];
  try {
    step(
      1,
      'Starting the local cloud: Pub/Sub emulator, fake-gcs-server, two kube-apiservers, Compute stand-in, and every Lifeboat function behind its push subscription',
    );
    env = await startEnvironment();
    Object.assign(process.env, env.variables);
    // Secrets are sealed under a data key wrapped by Cloud KMS (its stand-in), as deployed.
    lb = await startLocalLifeboat({
      logLevel: 'warn',
      kms: true,
      deployment: { backupPolicies: [NIGHTLY], drillPolicies: [WEEKLY_DRILL] },
    });
    const { bus, pipeline, topicPrefix } = lb;
    const inbox = (role: Parameters<typeof pipeline.topic>[0], name: string) =>
      Inbox.open<Msg>(bus, pipeline.topic(role), `${topicPrefix}demo-${name}`);
    const completed = await inbox('backup-completed', 'completed');
    const responses = await inbox('cluster-responses', 'responses');
    const restored = await inbox('restore-completed', 'restored');
    const drilled = await inbox('drill-completed', 'drilled');
    inboxes.push(completed, responses, restored, drilled);
    say(`      store ${lb.storeUrl}; clusters "source" (production) and "target" (standby)`);
    say(
      `      deployed: policy ${NIGHTLY.name} (cluster source, namespace ${NAMESPACE}) with standby "target", which implies restore plan standby:${NIGHTLY.name}`,
    );

    step(
      2,
      `Deploying namespace ${NAMESPACE} on the production cluster: hello app, WordPress and MySQL with two persistent disks`,
    );
    const originals = new Map<string, Buffer>([
      [DISKS.mysql, Buffer.concat([Buffer.from('-- mysql data directory --\n'), BLOG_POST])],
      [DISKS.wordpress, Buffer.from('wp-content/uploads/2020/04/header.jpg\n')],
    ]);
    for (const [name, bytes] of originals)
      lb.compute.seedDisk({
        project: PROJECT,
        zone: ZONE,
        name,
        sizeGb: 200,
        type: 'pd-standard',
        bytes,
      });
    await deployMyapp(kubeHttpOf(env.clusters.source.kubeconfig));
    say(`      ${myappObjects().length} objects created; a blog post written to the MySQL disk`);

    step(3, 'Cloud Scheduler fires the nightly policy: the tick fans out through Pub/Sub');
    await lb.bus.publish(lb.pipeline.topic('schedule'), {
      apiVersion: API_VERSION,
      kind: 'ScheduleTick',
      scheduledTime: new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString(),
      // The tick names the deployed policy, exactly as deployed: anything else is refused.
      policy: NIGHTLY,
    });
    const backup = await completed.waitFor(
      (m) => (m['cluster'] as { name: string }).name === 'source',
      180_000,
      'BackupCompleted',
    );
    const catalog = await readCatalog(lb.store, SOURCE, String(backup['backupId']));
    say(
      `      backup ${catalog.backupId}: ${catalog.phase}, ${catalog.counts.objects} objects in ${catalog.counts.packs} packs, ${catalog.counts.secrets} sealed secret(s), ${catalog.volumes.filter((v) => v.status === 'READY').length}/${catalog.volumes.length} disk snapshots READY`,
    );
    if (catalog.phase !== 'Completed')
      throw new Error(`the backup is ${catalog.phase}: ${catalog.errors.join('; ')}`);

    step(
      4,
      'Disaster: the production cluster is deleted (its API server stops; the audit log entry reaches Pub/Sub)',
    );
    await stopService(env.clusters.source.service);
    await lb.bus.publish(lb.pipeline.topic('cluster-events'), {
      insertId: 'demo-delete',
      logName: 'projects/local/logs/cloudaudit.googleapis.com%2Factivity',
      timestamp: new Date().toISOString(),
      severity: 'NOTICE',
      resource: {
        type: 'gke_cluster',
        labels: { project_id: 'local', location: 'local', cluster_name: 'source' },
      },
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        serviceName: 'container.googleapis.com',
        methodName: 'google.container.v1.ClusterManager.DeleteCluster',
        resourceName: 'projects/local/locations/local/clusters/source',
        authenticationInfo: { principalEmail: 'oops@example.com' },
      },
      operation: { id: 'operation-demo-delete', producer: 'container.googleapis.com', first: true },
    });
    const response = await responses.waitFor(() => true, 120_000, 'ClusterResponse');
    say(
      `      Lifeboat answered: ${(response['actions'] as string[]).join(', ')}; locked ${(response['lockedBackups'] as string[]).join(', ')}`,
    );

    step(
      5,
      `Lifeboat restores the namespace into the standby cluster under plan standby:${NIGHTLY.name}, disks from their snapshots`,
    );
    const restore = await restored.waitFor(
      (m) => m['restoreId'] === response['restoreId'],
      300_000,
      'RestoreCompleted',
    );
    const counts = restore['counts'] as Record<string, number>;
    say(
      `      restore ${String(restore['restoreId'])}: ${String(restore['phase'])} (${counts['restored'] ?? 0} restored, ${counts['skipped'] ?? 0} left to controllers or already there, ${counts['failed'] ?? 0} failed)`,
    );

    step(6, 'Checking the standby cluster');
    const checks = await verify(lb, kubeHttpOf(env.clusters.target.kubeconfig), originals);
    for (const c of checks) say(`      ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.detail}`);
    const recovered = checks.every((c) => c.ok) && restore['phase'] === 'Completed';
    say(
      `      ${recovered ? 'Recovered' : 'NOT recovered'}: ${checks.filter((c) => c.ok).length}/${checks.length} checks passed`,
    );

    step(
      7,
      `A restore drill of backup ${catalog.backupId} (policy ${WEEKLY_DRILL.name}): restored again into drill namespaces of the standby, compared with its catalog, timed, and removed`,
    );
    const drillId = 'demo';
    await lb.bus.publish(lb.pipeline.topic('drill'), {
      apiVersion: API_VERSION,
      kind: 'DrillJob',
      drillId,
      // The deployed drill policy, exactly: a drill may write only to its drill cluster.
      policy: WEEKLY_DRILL,
      cluster: SOURCE,
      backupId: catalog.backupId,
    });
    const drill = await drilled.waitFor((m) => m['drillId'] === drillId, 600_000, 'DrillCompleted');
    const drillPassed = drill['verdict'] === 'passed';
    const rto = typeof drill['rtoSeconds'] === 'number' ? drill['rtoSeconds'] : undefined;
    const leftBehind = (drill['leftBehind'] as string[] | undefined) ?? [];
    say(
      `      drill ${drillId}: ${String(drill['verdict'])}${rto !== undefined ? `, RTO ${rto} s (request to verified)` : ''}; ${leftBehind.length === 0 ? 'nothing left behind' : `left behind: ${leftBehind.join('; ')}`}`,
    );
    for (const reason of (drill['reasons'] as string[] | undefined) ?? []) say(`      ${reason}`);

    const ok = recovered && drillPassed;
    say(
      `\n${ok ? 'Recovered, and the backup drilled' : 'NOT recovered, or the drill failed'}: ${checks.filter((c) => c.ok).length}/${checks.length} checks passed, drill ${String(drill['verdict'])}, in ${Math.round((Date.now() - started) / 1000)} s.`,
    );
    say(
      JSON.stringify({
        outcome: recovered ? 'recovered' : 'failed',
        backupId: catalog.backupId,
        restoreId: restore['restoreId'],
        restorePhase: restore['phase'],
        objects: catalog.counts.objects,
        volumes: catalog.volumes.length,
        encryption: catalog.encryption?.wrappedBy.startsWith('kms:') ? 'kms' : 'key-file',
        checks: checks.length,
        failedChecks: checks.filter((c) => !c.ok).map((c) => c.what),
        seconds: Math.round((Date.now() - started) / 1000),
        drill: drill['verdict'],
        drill_rto_s: rto ?? null,
      }),
    );
    return ok ? 0 : 1;
  } catch (error) {
    say(`\nThe demo failed: ${error instanceof Error ? error.message : String(error)}`);
    say(
      JSON.stringify({
        outcome: 'failed',
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    return 1;
  } finally {
    await Promise.all(inboxes.map((i) => i.close().catch(() => undefined)));
    await lb?.stop().catch(() => undefined);
    await env?.stop();
  }
}

process.exitCode = await main();
process.exit();
