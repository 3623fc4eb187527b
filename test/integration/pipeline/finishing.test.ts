import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { readPlan, segmentKey, type ManifestPart } from '../../../shared/backup/parts.js';
import { readCatalog } from '../../../shared/catalog/catalog-io.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { mapLimit } from '../../../shared/concurrency.js';
import { API_VERSION } from '../../../shared/messages/index.js';
import { loadBackup } from '../../../shared/catalog/load-backup.js';
import { parseStoredJson } from '../../../shared/store/object-store.js';
import { Deadline } from '../../../shared/time/deadline.js';
import { poll } from '../../../shared/time/retry.js';
import { ApiRecorder, type ApiCall } from '../../../local/api-recorder.js';
import { startLocalLifeboat, type LocalLifeboat } from '../../../local/local-lifeboat.js';
import { unique } from '../../../local/settings.js';
import { kubeHttp } from '../../../local/kube-requests.js';
import { Inbox } from '../../../local/inbox.js';
import { explain, runCli } from '../../unit/cli/run-cli.js';

type Msg = Record<string, unknown> & { backupId?: string; phase?: string; errors?: string[] };

const SOURCE = { project: 'local', location: 'local', name: 'source' };
const LOCKED = { project: 'local', location: 'local', name: 'locked' };
/** Claims to announce lapse this fast here, so a dead holder is taken over within the test. */
const LEASE_MS = 4000;

/** gRPC status codes the recording proxy answers with. */
const FAILED_PRECONDITION = 9; // not retried by the Pub/Sub client: the function sees it
const UNAVAILABLE = 14;

/**
 * A CRD served at v1 (stored) and v2, converted by a webhook whose service
 * does not exist: every LIST at v2, the version discovery prefers, fails
 * with a 500 on every attempt, as a broken conversion webhook does.
 */
const FLAKY_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'flakies.finishing.lifeboat.dev' },
  spec: {
    group: 'finishing.lifeboat.dev',
    scope: 'Namespaced',
    names: { plural: 'flakies', singular: 'flaky', kind: 'Flaky', listKind: 'FlakyList' },
    versions: ['v1', 'v2'].map((name) => ({
      name,
      served: true,
      storage: name === 'v1',
      schema: {
        openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    })),
    conversion: {
      strategy: 'Webhook',
      webhook: {
        conversionReviewVersions: ['v1'],
        clientConfig: { service: { namespace: 'default', name: 'no-such-converter', port: 443 } },
      },
    },
  },
};

/** The local kubeconfig plus a context "locked" whose user RBAC grants nothing. */
function kubeconfigWithLockedCluster(): string {
  const kc = new KubeConfig();
  kc.loadFromFile(process.env['LIFEBOAT_KUBECONFIG']!);
  const source = kc.getContextObject('source');
  const server = kc.getCluster(source!.cluster)!;
  kc.addCluster({ ...server, name: 'locked' });
  kc.addUser({ name: 'nobody', token: process.env['LIFEBOAT_SOURCE_UNPRIVILEGED_TOKEN']! });
  kc.addContext({ name: 'locked', cluster: 'locked', user: 'nobody' });
  const file = join(tmpdir(), `${unique('kubeconfig')}.yaml`);
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

describe('every backup finishes: failing shards, lost continuations, planning refusals, dead announcers', function () {
  this.timeout(300_000);
  let lb: LocalLifeboat;
  let recorder: ApiRecorder;
  let completed: Inbox<Msg>;
  const flakyNs = unique('flaky');
  const segNs = unique('seg');
  const announceNs = unique('announce');
  const policies = {
    flaky: { name: unique('flaky'), filters: { includeNamespaces: [flakyNs] } },
    seg: { name: unique('seg'), filters: { includeNamespaces: [segNs] } },
    announce: { name: unique('announce'), filters: { includeNamespaces: [announceNs] } },
    locked: { name: unique('locked'), clusterNames: ['locked'], snapshotVolumes: true },
  };
  const policy = (p: { name: string }): object => ({
    projects: ['local'],
    clusterNames: ['source'],
    ...p,
  });
  const tick = (p: { name: string }, time: string): object => ({
    apiVersion: API_VERSION,
    kind: 'ScheduleTick',
    scheduledTime: time,
    policy: policy(p),
  });
  const idOf = (p: { name: string }, time: string): string =>
    `${p.name}-${time.slice(0, 10).replaceAll('-', '')}-${time.slice(11, 13)}${time.slice(14, 16)}`;

  before(async () => {
    recorder = new ApiRecorder();
    lb = await startLocalLifeboat({
      recorder,
      deployment: { backupPolicies: Object.values(policies).map(policy) },
      // No time to spare: every page of a LIST is a segment of its own, handed over.
      workBudgetMs: 1,
      extraEnvironment: {
        LIFEBOAT_ANNOUNCE_LEASE_MS: String(LEASE_MS),
        LIFEBOAT_KUBECONFIG: kubeconfigWithLockedCluster(),
      },
    });
    completed = await Inbox.open<Msg>(
      lb.bus,
      lb.pipeline.topic('backup-completed'),
      `${lb.topicPrefix}t-completed`,
    );
  });

  /** Any later backup of the source cluster would meet the broken webhook too: gone before it. */
  const removeFlakyCrd = async (): Promise<void> => {
    const source = kubeHttp('source');
    const crd = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${FLAKY_CRD.metadata.name}`;
    await source.request('DELETE', crd).catch(() => undefined);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await source.request('GET', crd);
      } catch {
        return;
      }
      if (Date.now() > deadline) throw new Error(`${FLAKY_CRD.metadata.name} is still there`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  after(async () => {
    await removeFlakyCrd().catch(() => undefined);
    for (const ns of [flakyNs, segNs, announceNs])
      await kubeHttp('source')
        .request('DELETE', `/api/v1/namespaces/${ns}`)
        .catch(() => undefined);
    await completed?.close();
    await lb?.stop();
    await recorder?.stop();
  });

  it('a shard that fails on every delivery ends as a failed part after five, and the backup PartiallyFailed', async () => {
    const source = kubeHttp('source');
    await source.request('POST', '/api/v1/namespaces', { body: { metadata: { name: flakyNs } } });
    await source.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: FLAKY_CRD,
    });
    const { waitEstablished } = await import('../../../shared/restore/apply-object.js');
    await waitEstablished(source, FLAKY_CRD.metadata.name);
    await source.request('POST', `/apis/finishing.lifeboat.dev/v1/namespaces/${flakyNs}/flakies`, {
      body: {
        apiVersion: 'finishing.lifeboat.dev/v1',
        kind: 'Flaky',
        metadata: { name: 'one' },
        spec: { size: 1 },
      },
    });
    await source.request('POST', `/api/v1/namespaces/${flakyNs}/configmaps`, {
      body: { metadata: { name: 'fine' }, data: { a: 'b' } },
    });
    const time = '2026-11-30T01:00:00Z';
    const backupId = idOf(policies.flaky, time);
    await lb.bus.publish(lb.pipeline.topic('schedule'), tick(policies.flaky, time));
    const done = await completed.waitFor(
      (m) => m.backupId === backupId,
      180_000,
      'its BackupCompleted',
    );
    assert.equal(done.phase, 'PartiallyFailed', JSON.stringify(done));
    const plan = await readPlan(lb.store, SOURCE, backupId);
    const shard = plan.shards.find((s) => s.resource.resource === 'flakies');
    assert.ok(shard, 'the plan has the flakies shard');
    const part = parseStoredJson(
      await lb.store.get(segmentKey(plan, shard.shardId, 0)),
      'part',
    ) as ManifestPart;
    assert.equal(part.ok, false);
    assert.match(part.error ?? '', /^failed on 5 deliveries; the last: /);
    // Each delivery that failed before the last was counted as it happened, in the store; the
    // fifth, the last, wrote the failed part instead.
    const counted: string[] = [];
    for await (const info of lb.store.list(Layout.backupDir(SOURCE, backupId) + 'attempts/'))
      counted.push(info.key);
    assert.deepEqual(
      counted,
      [1, 2, 3, 4].map((n) =>
        Layout.failedAttempt(SOURCE, backupId, `manifests/${shard.shardId}/00000`, n),
      ),
    );
    const catalog = await readCatalog(lb.store, SOURCE, backupId);
    assert.ok(
      catalog.errors.some((e) => e.startsWith(`${shard.shardId}: failed on 5 deliveries`)),
      catalog.errors.join('\n'),
    );
    // Everything else was exported.
    const { records } = await loadBackup(lb.store, SOURCE, backupId);
    assert.ok(records.some((r) => r.ref.kind === 'ConfigMap' && r.ref.name === 'fine'));
    await removeFlakyCrd();
  });

  it('a segmented export whose continuation is lost twice (a failed publish, a process killed after the part) exports every object once', async () => {
    const source = kubeHttp('source');
    await source.request('POST', '/api/v1/namespaces', { body: { metadata: { name: segNs } } });
    const names = Array.from({ length: 1500 }, (_, i) => `cm-${String(i).padStart(4, '0')}`);
    await mapLimit(names, 32, (name) =>
      source.request('POST', `/api/v1/namespaces/${segNs}/configmaps`, {
        body: { metadata: { name }, data: { n: name } },
      }),
    );
    const isContinuation: Pick<ApiCall, 'fn'> & { api: 'pubsub'; path: RegExp; topic: RegExp } = {
      fn: 'exportShard',
      api: 'pubsub',
      path: /Publish$/,
      topic: /export-shards$/,
    };
    // The first continuation is refused once; the second is held until the process is killed.
    recorder.inject({ ...isContinuation, status: FAILED_PRECONDITION, count: 1 });
    let held: () => void = () => undefined;
    const heldNow = new Promise<void>((resolve) => (held = resolve));
    recorder.inject({
      ...isContinuation,
      status: UNAVAILABLE,
      count: 1,
      holdMs: 600_000,
      onTaken: () => held(),
    });
    const time = '2026-11-30T02:00:00Z';
    const backupId = idOf(policies.seg, time);
    await lb.bus.publish(lb.pipeline.topic('schedule'), tick(policies.seg, time));
    await Promise.race([
      heldNow,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('no second continuation was published')), 180_000),
      ),
    ]);
    // The part of the segment whose continuation is held is written, and records where to go on.
    const plan = await readPlan(lb.store, SOURCE, backupId);
    const shard = plan.shards.find((s) => s.resource.resource === 'configmaps')!;
    const segments: ManifestPart[] = [];
    for await (const info of lb.store.list(
      Layout.partsPrefix(SOURCE, backupId) + `manifests/${shard.shardId}/`,
    ))
      segments.push(parseStoredJson(await lb.store.get(info.key), info.key) as ManifestPart);
    assert.ok(segments.length >= 1, 'a segment was written before the kill');
    assert.ok(
      segments.every((s) => s.ok && s.next && !s.done),
      JSON.stringify(segments),
    );
    await lb.pipeline.kill('exportShard');
    await lb.pipeline.startFunction('exportShard');

    const done = await completed.waitFor(
      (m) => m.backupId === backupId,
      180_000,
      'its BackupCompleted',
    );
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    const refused = recorder
      .callsOf('exportShard')
      .filter((c) => c.topic?.endsWith('export-shards') && c.status === FAILED_PRECONDITION);
    assert.equal(refused.length, 1, 'one continuation publish failed');
    const { records } = await loadBackup(lb.store, SOURCE, backupId);
    const exported = records
      .filter((r) => r.ref.kind === 'ConfigMap' && r.ref.namespace === segNs)
      .map((r) => r.ref.name)
      .filter((n) => n.startsWith('cm-'))
      .sort();
    assert.deepEqual(exported, names, 'every ConfigMap exactly once');
    const catalog = await readCatalog(lb.store, SOURCE, backupId);
    const configmaps = catalog.resources.find((r) => r.resource === 'configmaps')!;
    assert.ok(configmaps.objects >= names.length);
  });

  it('a backup the API server refuses to plan (403) is Failed, with a catalog that says why', async () => {
    const time = '2026-11-30T03:00:00Z';
    const backupId = idOf(policies.locked, time);
    await lb.bus.publish(lb.pipeline.topic('schedule'), tick(policies.locked, time));
    const done = await completed.waitFor(
      (m) => m.backupId === backupId,
      120_000,
      'its BackupCompleted',
    );
    assert.equal(done.phase, 'Failed');
    assert.match(String(done.errors), /403|forbidden/i);
    const catalog = await readCatalog(lb.store, LOCKED, backupId);
    assert.equal(catalog.phase, 'Failed');
    assert.match(catalog.errors.join('\n'), /^not planned: .*(403|forbidden)/im);
    const described = await runCli(['backup', 'describe', backupId, '--store', lb.store.url]);
    assert.equal(described.code, 0, explain(described));
    assert.match(described.stdout, /Phase:\s+Failed/);
    assert.match(described.stdout, /not planned: .*(403|forbidden)/i);
    // Announced once, like any backup.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(
      completed.count((m) => m.backupId === backupId),
      1,
    );
  });

  it('an announcer killed between its claim and its publish is taken over, and the backup is announced once', async () => {
    const source = kubeHttp('source');
    await source.request('POST', '/api/v1/namespaces', {
      body: { metadata: { name: announceNs } },
    });
    await source.request('POST', `/api/v1/namespaces/${announceNs}/configmaps`, {
      body: { metadata: { name: 'one' }, data: { a: 'b' } },
    });
    let held: () => void = () => undefined;
    const heldNow = new Promise<void>((resolve) => (held = resolve));
    recorder.inject({
      fn: 'emitCatalog',
      api: 'pubsub',
      path: /Publish$/,
      topic: /backup-completed$/,
      status: UNAVAILABLE,
      count: 1,
      holdMs: 600_000,
      onTaken: () => held(),
    });
    const time = '2026-11-30T04:00:00Z';
    const backupId = idOf(policies.announce, time);
    await lb.bus.publish(lb.pipeline.topic('schedule'), tick(policies.announce, time));
    await Promise.race([
      heldNow,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('BackupCompleted was never published')), 180_000),
      ),
    ]);
    await lb.pipeline.kill('emitCatalog');
    // Died holding the claim, before anything was announced.
    assert.equal(await lb.store.exists(Layout.announceClaim(SOURCE, backupId, 1)), true);
    assert.equal(await lb.store.exists(Layout.announced(SOURCE, backupId)), false);
    assert.equal(
      completed.count((m) => m.backupId === backupId),
      0,
    );
    await lb.pipeline.startFunction('emitCatalog');

    const done = await completed.waitFor(
      (m) => m.backupId === backupId,
      180_000,
      'its BackupCompleted',
    );
    assert.equal(done.phase, 'Completed', JSON.stringify(done));
    // The marker is written just after the publish: the message can arrive first.
    const marked = await poll(Deadline.after(10_000), 100, async () =>
      (await lb.store.exists(Layout.announced(SOURCE, backupId))) ? true : undefined,
    );
    assert.equal(marked, true, 'announced.json written after BackupCompleted');
    // The next claim took over; nothing announces it again, however long one waits.
    assert.equal(await lb.store.exists(Layout.announceClaim(SOURCE, backupId, 2)), true);
    await new Promise((r) => setTimeout(r, LEASE_MS * 2));
    assert.equal(
      completed.count((m) => m.backupId === backupId),
      1,
    );
  });
});
