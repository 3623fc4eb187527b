import { strict as assert } from 'node:assert';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { Layout } from '../../../shared/catalog/layout.js';
import { Deadline } from '../../../shared/time/deadline.js';
import { labelValue } from '../../../shared/disks/names.js';
import { cleanUpDrill } from '../../../shared/drill/drill-cleanup.js';
import { GceDrillDisks, RESTORE_DISK_LABEL } from '../../../shared/drill/drill-disks.js';
import { DrillKubeHttp, DrillSafetyError } from '../../../shared/drill/drill-guard.js';
import { drillRestoreId } from '../../../shared/drill/drill-names.js';
import { runDrill } from '../../../shared/drill/run-drill.js';
import { resourcePath, type KubeHttp } from '../../../shared/kube/kube-http.js';
import { DrillPolicy } from '../../../shared/messages/drill.js';
import { RESTORE_LABEL } from '../../../shared/restore/apply-object.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { validate } from '../../../shared/validate.js';
import { gcsStore, policy, SOURCE, TARGET } from '../../../local/backup-fixture.js';
import { kubeConfigFor, unique } from '../../../local/settings.js';
import { create, get, kubeHttp, list, R } from '../../../local/kube-requests.js';
import { ComputeStandin } from '../../../local/standins/compute/server.js';

const drillId = (): string => unique('s').replace('-', '');

const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof DrillSafetyError && pattern.test(error.message);

/**
 * The safety rules of a drill, each checked where it is enforced: a drill
 * writes only to its policy's drill cluster, only into namespaces with its
 * prefix (and writes nothing that reaches into another namespace), and
 * deletes only what carries its label, in the cluster and at Compute Engine.
 * Each test would fail without its check: the forbidden write would happen.
 */
describe('restore drills are safe', function () {
  this.timeout(120_000);
  let store: ObjectStore;
  let source: KubeHttp;
  let target: KubeHttp;
  let ns: string;
  let backupId: string;

  before(async () => {
    store = await gcsStore();
    source = kubeHttp('source');
    target = kubeHttp('target');
    ns = unique('guarded');
    await create(source, R.namespaces, { metadata: { name: ns } });
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns },
      data: { mode: 'production' },
    });
    backupId = unique('safe');
    const { catalog } = await runBackup(
      { http: source, store },
      { backupId, cluster: SOURCE, policy: policy({ filters: { includeNamespaces: [ns] } }) },
    );
    assert.equal(catalog.phase, 'Completed');
  });

  it("never writes to a cluster that is not the policy's drill cluster", async () => {
    const id = drillId();
    const report = await runDrill(
      // Credentials for the source cluster, which the policy does not name as its drill cluster.
      { target: SOURCE, kubeConfig: kubeConfigFor('source'), store },
      {
        apiVersion: 'lifeboat.dev/v1',
        kind: 'DrillJob',
        drillId: id,
        policy: validate(
          DrillPolicy,
          { name: 'weekly', projects: ['local'], drillCluster: TARGET, restoreVolumes: false },
          'policy',
        ),
        cluster: SOURCE,
        backupId,
      },
    );
    assert.equal(report.verdict, 'failed');
    assert.match(report.reasons.join('\n'), /refusing to drill into local\.local\.source/);
    for (const http of [source, target]) {
      const names = (await list(http, R.namespaces)).map((n) => n.metadata.name);
      assert.deepEqual(
        names.filter((n) => n.startsWith(`drill-${id}-`)),
        [],
      );
    }
    // No restore was even begun.
    assert.equal(await store.exists(Layout.restoreProgress(drillRestoreId(id))), false);
    assert.equal(await store.exists(Layout.report(drillRestoreId(id))), false);
  });

  describe('the guarded client', () => {
    let id: string;
    let guarded: DrillKubeHttp;
    let own: string;
    let plain: string;

    before(async () => {
      id = drillId();
      guarded = new DrillKubeHttp(kubeConfigFor('target'), id, drillRestoreId(id));
      own = `drill-${id}-${ns}`;
      plain = unique('not-drill');
      await create(target, R.namespaces, { metadata: { name: plain } });
    });
    after(() => guarded.close());

    it('writes into its own namespaces and never into another', async () => {
      await create(guarded, R.namespaces, {
        metadata: { name: own, labels: { [RESTORE_LABEL]: drillRestoreId(id) } },
      });
      await create(guarded, R.configmaps, { metadata: { name: 'mine', namespace: own } });
      assert.ok(await get(target, R.configmaps, own, 'mine'), 'a write into its namespace goes');
      await assert.rejects(
        create(guarded, R.configmaps, { metadata: { name: 'theirs', namespace: plain } }),
        refused(/namespace not-drill-\w+ lacks the drill prefix/),
      );
      assert.equal(await get(target, R.configmaps, plain, 'theirs'), undefined);
      await assert.rejects(
        create(guarded, R.namespaces, {
          metadata: { name: unique('other'), labels: { [RESTORE_LABEL]: drillRestoreId(id) } },
        }),
        refused(/only creates namespaces named drill-/),
      );
      await assert.rejects(
        guarded.request('PUT', resourcePath(R.configmaps, plain, 'kube-root-ca.crt'), {
          body: { metadata: { name: 'kube-root-ca.crt', namespace: plain }, data: {} },
        }),
        refused(/lacks the drill prefix/),
      );
    });

    it('writes nothing cluster-scoped that reaches into another namespace', async () => {
      const pv = unique('pv-guard');
      await assert.rejects(
        create(guarded, R.pvs, {
          metadata: { name: pv, labels: { [RESTORE_LABEL]: drillRestoreId(id) } },
          spec: {
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            claimRef: { namespace: plain, name: 'data' },
            hostPath: { path: '/tmp/x' },
          },
        }),
        refused(/refers to namespace not-drill-/),
      );
      assert.equal(await get(target, R.pvs, undefined, pv), undefined);
      const binding = unique('crb-guard');
      const crbs = {
        group: 'rbac.authorization.k8s.io',
        version: 'v1',
        resource: 'clusterrolebindings',
        namespaced: false,
      };
      await assert.rejects(
        create(guarded, crbs, {
          metadata: { name: binding, labels: { [RESTORE_LABEL]: drillRestoreId(id) } },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
          subjects: [{ kind: 'ServiceAccount', namespace: 'kube-system', name: 'default' }],
        }),
        refused(/refers to namespace kube-system/),
      );
      assert.equal(await get(target, crbs, undefined, binding), undefined);
      const role = unique('cr-unlabelled');
      await assert.rejects(
        create(guarded, R.clusterroles, { metadata: { name: role }, rules: [] }),
        refused(/created only with lifeboat\.dev\/restore=/),
      );
      assert.equal(await get(target, R.clusterroles, undefined, role), undefined);
    });

    it('changes and deletes only what carries its label', async () => {
      const theirs = unique('cr-theirs');
      await create(target, R.clusterroles, { metadata: { name: theirs }, rules: [] });
      const path = resourcePath(R.clusterroles, undefined, theirs);
      await assert.rejects(guarded.request('DELETE', path), refused(/did not create it/));
      await assert.rejects(
        guarded.request('PUT', path, { body: { metadata: { name: theirs }, rules: [] } }),
        refused(/did not create it/),
      );
      assert.ok(await get(target, R.clusterroles, undefined, theirs), 'still there');
      // In its own namespace too: an object someone else put there is not the drill's to delete.
      await create(target, R.configmaps, { metadata: { name: 'visitor', namespace: own } });
      await assert.rejects(
        guarded.request('DELETE', resourcePath(R.configmaps, own, 'visitor')),
        refused(/did not create it/),
      );
      assert.ok(await get(target, R.configmaps, own, 'visitor'));
      const mine = unique('cr-mine');
      await create(guarded, R.clusterroles, {
        metadata: { name: mine, labels: { [RESTORE_LABEL]: drillRestoreId(id) } },
        rules: [],
      });
      await guarded.request('DELETE', resourcePath(R.clusterroles, undefined, mine));
      assert.equal(await get(target, R.clusterroles, undefined, mine), undefined);
    });

    it('cleans up only namespaces with its prefix and its label', async () => {
      // Someone else's namespace under the drill's prefix, and one carrying its label without the prefix.
      const squatter = `drill-${id}-squatter`;
      await create(target, R.namespaces, { metadata: { name: squatter } });
      const labelledElsewhere = unique('labelled');
      await create(target, R.namespaces, {
        metadata: { name: labelledElsewhere, labels: { [RESTORE_LABEL]: drillRestoreId(id) } },
      });
      const result = await cleanUpDrill(
        guarded,
        undefined,
        undefined,
        id,
        drillRestoreId(id),
        [],
        60_000,
      );
      assert.deepEqual(result.leftBehind, []);
      assert.equal(await get(target, R.namespaces, undefined, own), undefined, 'its own is gone');
      assert.ok(await get(target, R.namespaces, undefined, squatter), 'no label: kept');
      assert.ok(await get(target, R.namespaces, undefined, labelledElsewhere), 'no prefix: kept');
    });
  });

  it('deletes only disks its restore made', async () => {
    const compute = await ComputeStandin.start();
    const disks = new GceDrillDisks(compute.clientOptions(), 20);
    try {
      const id = drillId();
      const at = { project: 'acme', zone: 'europe-west1-b' };
      const path = (name: string): string => `projects/acme/zones/europe-west1-b/disks/${name}`;
      compute.seedDisk({ ...at, name: 'database', bytes: Buffer.from('precious') });
      await assert.rejects(
        disks.delete(path('database'), drillRestoreId(id), Deadline.after(10_000)),
        /refusing to delete disk .*database: it does not carry lifeboat-restore=/,
      );
      assert.equal(compute.readDisk({ ...at, name: 'database' }).toString(), 'precious');
      assert.equal(compute.callCount('disks.delete'), 0, 'no delete was sent');
      assert.equal(
        await disks.delete(path('never-made'), drillRestoreId(id), Deadline.after(10_000)),
        'absent',
      );
      // A disk of this drill's restore goes, and the call waits until it is gone.
      compute.seedDisk({ ...at, name: 'restored' });
      compute.state.diskRecord({ ...at, name: 'restored' })!.labels[RESTORE_DISK_LABEL] =
        labelValue(drillRestoreId(id));
      assert.equal(
        await disks.delete(path('restored'), drillRestoreId(id), Deadline.after(10_000)),
        'deleted',
      );
      assert.equal(compute.state.diskRecord({ ...at, name: 'restored' }), undefined);
    } finally {
      await disks.close();
      await compute.stop();
    }
  });
});
