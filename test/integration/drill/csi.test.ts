import { strict as assert } from 'node:assert';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import {
  CsiSnapshotter,
  type CsiRestoreRequest,
  type VolumeSnapshot,
} from '../../../shared/disks/csi-snapshotter.js';
import { Deadline } from '../../../shared/time/deadline.js';
import { cleanUpDrill } from '../../../shared/drill/drill-cleanup.js';
import { customObjectsOver } from '../../../shared/drill/drill-custom-objects.js';
import { DrillKubeHttp } from '../../../shared/drill/drill-guard.js';
import { drillPrefix, drillRestoreId } from '../../../shared/drill/drill-names.js';
import { statusOf } from '../../../shared/errors.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';
import { RESTORE_LABEL } from '../../../shared/restore/apply-object.js';
import { kubeConfigFor, unique } from '../../../local/settings.js';
import { create, get, kubeHttp, R } from '../../../local/kube-requests.js';
import { installSnapshotCrds } from '../disks/snapshot-crds.js';

const GROUP = { group: 'snapshot.storage.k8s.io', version: 'v1' };
const CONTENTS = { ...GROUP, plural: 'volumesnapshotcontents' };
const drillId = (): string => unique('v').replace('-', '');

/**
 * The CSI path of a drill's volume restore makes objects of its own in the
 * drill cluster, outside the backup's: a VolumeSnapshotContent
 * (cluster-scoped) and a VolumeSnapshot in the drill namespace. Made
 * through the drill's guarded client, they carry its label, may not point
 * outside its namespaces, and its cleanup deletes them and waits until
 * they are gone (or names them). The test plays the snapshot controller
 * (none runs here), as test/integration/disks/csi-snapshotter.test.ts does.
 */
describe('drills and CSI snapshot objects', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let objects: CustomObjectsApi;

  before(async () => {
    kc = kubeConfigFor('target');
    objects = kc.makeApiClient(CustomObjectsApi);
    await installSnapshotCrds(kc);
  });

  const restoreRequest = (restoreId: string, namespace: string): CsiRestoreRequest => ({
    restoreId,
    snapshot: {
      volumeSnapshotClass: 'lifeboat-retain',
      namespace: 'shop',
      name: 'lb-b1-data-0-0000aaaa',
      snapshotHandle: 'snap-handle-7f3a',
      restoreSize: '1Gi',
    },
    driver: 'hostpath.csi.k8s.io',
    pvc: {
      metadata: { name: 'data-0', namespace: 'shop' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
    namespace,
    deadline: Deadline.after(20_000),
  });

  /** Plays the snapshot controller: the first VolumeSnapshot in the namespace becomes readyToUse. */
  async function markReady(namespace: string): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const list = (await objects.listNamespacedCustomObject({
        ...GROUP,
        namespace,
        plural: 'volumesnapshots',
      })) as { items: VolumeSnapshot[] };
      const vs = list.items[0];
      if (vs) {
        vs.status = { readyToUse: true, restoreSize: '1Gi' };
        await objects.replaceNamespacedCustomObjectStatus({
          ...GROUP,
          namespace,
          plural: 'volumesnapshots',
          name: vs.metadata.name,
          body: vs,
        });
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no VolumeSnapshot appeared in ${namespace}`);
  }

  async function content(name: string): Promise<KubeObject | undefined> {
    try {
      return (await objects.getClusterCustomObject({ ...CONTENTS, name })) as KubeObject;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async function setFinalizers(name: string, finalizers: string[]): Promise<void> {
    const live = (await objects.getClusterCustomObject({ ...CONTENTS, name })) as KubeObject;
    live.metadata.finalizers = finalizers;
    await objects.replaceClusterCustomObject({ ...CONTENTS, name, body: live });
  }

  /** A drill's guarded client, its namespace made (as its restore makes it) and a CSI snapshotter over it. */
  async function drillWithNamespace(): Promise<{
    id: string;
    restoreId: string;
    guarded: DrillKubeHttp;
    ns: string;
    csi: CsiSnapshotter;
  }> {
    const id = drillId();
    const restoreId = drillRestoreId(id);
    const guarded = new DrillKubeHttp(kc, id, restoreId);
    const ns = `${drillPrefix(id)}shop`;
    await create(guarded, R.namespaces, {
      metadata: { name: ns, labels: { [RESTORE_LABEL]: restoreId } },
    });
    const csi = new CsiSnapshotter(customObjectsOver(guarded), { pollIntervalMs: 20 });
    return { id, restoreId, guarded, ns, csi };
  }

  it("labels what it makes, and cleanup deletes the content and the snapshot and waits until they are gone, sparing what is not the drill's", async () => {
    const { id, restoreId, guarded, ns, csi } = await drillWithNamespace();
    try {
      const [outcome] = await Promise.all([
        csi.restoreClaim(restoreRequest(restoreId, ns)),
        markReady(ns),
      ]);
      assert.equal(outcome.status, 'READY', JSON.stringify(outcome));
      if (outcome.status !== 'READY') return;
      const made = await content(outcome.volumeSnapshotContent);
      assert.equal(made?.metadata.labels?.[RESTORE_LABEL], restoreId, 'the content is labelled');
      // The drill cluster's own content (no label) and another drill's stay.
      const own = unique('own-content');
      const other = unique('other-drill');
      for (const [name, labels] of [
        [own, {}],
        [other, { [RESTORE_LABEL]: drillRestoreId(drillId()) }],
      ] as const) {
        await objects.createClusterCustomObject({
          ...CONTENTS,
          body: {
            apiVersion: 'snapshot.storage.k8s.io/v1',
            kind: 'VolumeSnapshotContent',
            metadata: { name, labels },
            spec: {
              driver: 'hostpath.csi.k8s.io',
              deletionPolicy: 'Retain',
              source: { snapshotHandle: `handle-${name}` },
              volumeSnapshotRef: { namespace: 'default', name },
            },
          },
        });
      }

      const result = await cleanUpDrill(guarded, undefined, undefined, id, restoreId, [], 60_000);
      assert.deepEqual(result.leftBehind, []);
      assert.equal(await content(outcome.volumeSnapshotContent), undefined, 'the content is gone');
      assert.equal(await get(kubeHttp('target'), R.namespaces, undefined, ns), undefined);
      assert.ok(await content(own), "the cluster's own content is kept");
      assert.ok(await content(other), "another drill's content is kept");
      for (const name of [own, other])
        await objects.deleteClusterCustomObject({ ...CONTENTS, name });
    } finally {
      guarded.close();
    }
  });

  it('names a content that will not go in leftBehind', async () => {
    const { id, restoreId, guarded, ns, csi } = await drillWithNamespace();
    try {
      const [outcome] = await Promise.all([
        csi.restoreClaim(restoreRequest(restoreId, ns)),
        markReady(ns),
      ]);
      assert.equal(outcome.status, 'READY', JSON.stringify(outcome));
      if (outcome.status !== 'READY') return;
      const name = outcome.volumeSnapshotContent;
      // A finalizer nobody removes (as a stuck snapshot controller would leave one).
      await setFinalizers(name, ['example.com/hold']);
      const result = await cleanUpDrill(guarded, undefined, undefined, id, restoreId, [], 2_000);
      assert.deepEqual(
        result.leftBehind.filter((l) => l.startsWith(`volumesnapshotcontents ${name}:`)).length,
        1,
        JSON.stringify(result.leftBehind),
      );
      await setFinalizers(name, []);
    } finally {
      guarded.close();
    }
  });

  it("refuses CSI snapshot objects pointing outside the drill's namespaces, creating none", async () => {
    const { restoreId, guarded } = await drillWithNamespace();
    try {
      const outside = unique('prod');
      await create(kubeHttp('target'), R.namespaces, { metadata: { name: outside } });
      const csi = new CsiSnapshotter(customObjectsOver(guarded), { pollIntervalMs: 20 });
      const outcome = await csi.restoreClaim(restoreRequest(restoreId, outside));
      assert.equal(outcome.status, 'FAILED');
      assert.match(
        outcome.status === 'FAILED' ? outcome.reason : '',
        new RegExp(`refers to namespace ${outside}, outside the drill`),
      );
      assert.ok(guarded.refused.length > 0, 'the guard refused the write');
      const list = (await objects.listClusterCustomObject({
        ...CONTENTS,
        labelSelector: `${RESTORE_LABEL}=${restoreId}`,
      })) as { items: KubeObject[] };
      assert.deepEqual(list.items, [], 'no content was created');
    } finally {
      guarded.close();
    }
  });
});
