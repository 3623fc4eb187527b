import { strict as assert } from 'node:assert';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import {
  CsiSnapshotter,
  type VolumeSnapshot,
  type VolumeSnapshotContent,
} from '../../../shared/disks/csi-snapshotter.js';
import { Deadline } from '../../../shared/time/deadline.js';
import { captureVolume } from '../../../shared/backup/capture-volume.js';
import { provisionVolume } from '../../../shared/restore/provision-volume.js';
import { statusOf } from '../../../shared/errors.js';
import { kubeConfigFor, unique } from '../../../local/settings.js';
import { claimFor, csiZonalPv } from '../../unit/disks/pv-fixtures.js';
import { FakeSnapshotter } from '../../unit/disks/fake-snapshotter.js';
import { installSnapshotCrds, waitFor } from './snapshot-crds.js';

const GROUP = { group: 'snapshot.storage.k8s.io', version: 'v1' };
const DRIVER = 'hostpath.csi.k8s.io';
const CLASS = 'lifeboat-retain';

/**
 * The CSI path against the real source and target API servers, with the
 * snapshot CRDs installed. No snapshot controller runs there, so the test
 * plays it: it binds a VolumeSnapshotContent and sets status through the
 * status subresource, as the external-snapshotter would.
 */
describe('CSI VolumeSnapshots on the real API servers', () => {
  let source: KubeConfig;
  let target: KubeConfig;

  before(async () => {
    source = kubeConfigFor('source');
    target = kubeConfigFor('target');
    for (const kc of [source, target]) {
      await installSnapshotCrds(kc);
      await createIgnoringConflict(() =>
        kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({
          ...GROUP,
          plural: 'volumesnapshotclasses',
          body: {
            apiVersion: 'snapshot.storage.k8s.io/v1',
            kind: 'VolumeSnapshotClass',
            metadata: { name: CLASS },
            driver: DRIVER,
            deletionPolicy: 'Retain',
          },
        }),
      );
    }
  });

  async function namespaceWithClaim(kc: KubeConfig, pvcName: string): Promise<string> {
    const namespace = unique('csi');
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: pvcName },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '1Gi' } },
          storageClassName: 'csi-hostpath-sc',
        },
      },
    });
    return namespace;
  }

  it('snapshots a claim through captureVolume, waits for readyToUse, records the content handle; a redelivery adopts it', async () => {
    const namespace = await namespaceWithClaim(source, 'data-0');
    const csi = new CsiSnapshotter(source.makeApiClient(CustomObjectsApi), { pollIntervalMs: 20 });
    const pv = hostpathPv(namespace, 'data-0');
    const request = {
      backupId: 'csi-b1',
      cluster: { project: 'prod-project', location: 'us-central1', name: 'shop' },
      pv,
      csiSnapshotClasses: { [DRIVER]: CLASS },
      deadline: Deadline.after(20_000),
    };
    const controller = playSnapshotController(source, namespace, { handle: 'snap-handle-7f3a' });
    const first = await captureVolume(request, { disks: new FakeSnapshotter(), csi });
    const vsName = await controller;
    assert.equal(first.entry.status, 'READY', first.entry.reason);
    assert.deepEqual(first.entry.csiSnapshot, {
      volumeSnapshotClass: CLASS,
      namespace,
      name: vsName,
      snapshotHandle: 'snap-handle-7f3a',
      restoreSize: '1Gi',
    });
    const created = await getSnapshot(source, namespace, vsName);
    assert.deepEqual(created.spec, {
      volumeSnapshotClassName: CLASS,
      source: { persistentVolumeClaimName: 'data-0' },
    });
    assert.equal(created.metadata.labels?.['lifeboat.dev/backup'], 'csi-b1');

    const again = await csi.snapshotClaim({
      backupId: 'csi-b1',
      namespace,
      pvcName: 'data-0',
      volumeSnapshotClass: CLASS,
      deadline: Deadline.after(5000),
    });
    assert.equal(again.status, 'READY');
    assert.equal(again.status === 'READY' && again.created, false);
    const list = (await source
      .makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({ ...GROUP, namespace, plural: 'volumesnapshots' })) as {
      items: unknown[];
    };
    assert.equal(list.items.length, 1, 'one VolumeSnapshot for two deliveries');
  });

  it('fails with the controller-reported error, and at the deadline when nothing happens', async () => {
    const namespace = await namespaceWithClaim(source, 'data-0');
    const csi = new CsiSnapshotter(source.makeApiClient(CustomObjectsApi), { pollIntervalMs: 20 });
    const controller = playSnapshotController(source, namespace, {
      error: 'rpc error: code = Internal desc = snapshot quota exceeded',
    });
    const failed = await csi.snapshotClaim({
      backupId: 'csi-err',
      namespace,
      pvcName: 'data-0',
      volumeSnapshotClass: CLASS,
      deadline: Deadline.after(20_000),
    });
    await controller;
    assert.equal(failed.status, 'FAILED');
    assert.match(
      failed.status === 'FAILED' ? failed.reason : '',
      /rpc error: code = Internal desc = snapshot quota exceeded/,
    );

    const stuck = await csi.snapshotClaim({
      backupId: 'csi-stuck',
      namespace,
      pvcName: 'data-0',
      volumeSnapshotClass: CLASS,
      deadline: Deadline.after(300),
    });
    assert.equal(stuck.status, 'FAILED');
    assert.match(stuck.status === 'FAILED' ? stuck.reason : '', /not readyToUse after 300ms/);
  });

  it('restores into the target through a pre-provisioned content, a VolumeSnapshot and a PVC whose dataSource is it', async () => {
    const sourceNs = unique('csi-src');
    const targetNs = unique('csi-dst');
    await target
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: targetNs } } });
    const csi = new CsiSnapshotter(target.makeApiClient(CustomObjectsApi), { pollIntervalMs: 20 });
    const pv = hostpathPv(sourceNs, 'data-0');
    const entry = {
      pvName: pv.metadata?.name ?? '',
      pvcNamespace: sourceNs,
      pvcName: 'data-0',
      driver: DRIVER,
      csiSnapshot: {
        volumeSnapshotClass: CLASS,
        namespace: sourceNs,
        name: 'lb-b1-data-0-0000aaaa',
        snapshotHandle: 'snap-handle-7f3a',
        restoreSize: '1Gi',
      },
      status: 'READY' as const,
    };
    const request = {
      restoreId: 'csi-r1',
      entry,
      pv,
      pvc: claimFor(pv),
      policy: 'restore-from-snapshot' as const,
      targetNamespace: targetNs,
      deadline: Deadline.after(20_000),
    };
    const controller = playRestoreController(target, targetNs);
    const result = await provisionVolume(request, { disks: new FakeSnapshotter(), csi });
    const vsName = await controller;
    assert.deepEqual(result.errors, []);
    assert.equal(result.pv, undefined, 'the provisioner makes the PV');
    const pvc = result.pvc;
    assert.ok(pvc);
    assert.deepEqual(pvc.spec?.dataSource, {
      apiGroup: 'snapshot.storage.k8s.io',
      kind: 'VolumeSnapshot',
      name: vsName,
    });

    const vs = await getSnapshot(target, targetNs, vsName);
    const contentName = vs.spec.source.volumeSnapshotContentName ?? '';
    const content = (await target.makeApiClient(CustomObjectsApi).getClusterCustomObject({
      ...GROUP,
      plural: 'volumesnapshotcontents',
      name: contentName,
    })) as VolumeSnapshotContent;
    assert.deepEqual(content.spec.source, { snapshotHandle: 'snap-handle-7f3a' });
    assert.equal(content.spec.deletionPolicy, 'Retain');
    assert.equal(content.spec.driver, DRIVER);
    assert.deepEqual(content.spec.volumeSnapshotRef, { namespace: targetNs, name: vsName });

    // The real API server takes the claim with its dataSource.
    const created = await target
      .makeApiClient(CoreV1Api)
      .createNamespacedPersistentVolumeClaim({ namespace: targetNs, body: pvc });
    assert.equal(created.spec?.dataSource?.kind, 'VolumeSnapshot');
    assert.equal(created.spec?.dataSource?.name, vsName);
    assert.equal(created.spec?.volumeName, undefined);

    // A redelivery adopts the same objects.
    const again = await csi.restoreClaim({
      restoreId: 'csi-r1',
      snapshot: entry.csiSnapshot,
      driver: DRIVER,
      pvc: claimFor(pv),
      namespace: targetNs,
      deadline: Deadline.after(5000),
    });
    assert.equal(again.status === 'READY' && again.volumeSnapshot, vsName);
  });
});

function hostpathPv(namespace: string, claim: string) {
  const pv = csiZonalPv(unique('pvc-hostpath'), { namespace, name: claim });
  if (pv.spec?.csi) {
    pv.spec.csi.driver = DRIVER;
    pv.spec.csi.volumeHandle = '3f5e1c2a-hostpath-volume';
  }
  return pv;
}

async function getSnapshot(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<VolumeSnapshot & { metadata: { uid?: string } }> {
  return (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    ...GROUP,
    namespace,
    plural: 'volumesnapshots',
    name,
  })) as VolumeSnapshot;
}

async function firstSnapshotIn(kc: KubeConfig, namespace: string): Promise<string> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  let name = '';
  await waitFor(`a VolumeSnapshot in ${namespace}`, async () => {
    const list = (await objects.listNamespacedCustomObject({
      ...GROUP,
      namespace,
      plural: 'volumesnapshots',
    })) as { items: VolumeSnapshot[] };
    name = list.items[0]?.metadata.name ?? '';
    return name !== '';
  });
  return name;
}

/** Plays the snapshot controller for a dynamic snapshot: a bound content with a handle, then readyToUse (or an error). */
async function playSnapshotController(
  kc: KubeConfig,
  namespace: string,
  outcome: { handle?: string; error?: string },
): Promise<string> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  const name = await firstSnapshotIn(kc, namespace);
  const vs = await getSnapshot(kc, namespace, name);
  if (outcome.error) {
    vs.status = { readyToUse: false, error: { message: outcome.error } };
  } else {
    const contentName = `snapcontent-${vs.metadata.uid ?? name}`;
    const content = (await objects.createClusterCustomObject({
      ...GROUP,
      plural: 'volumesnapshotcontents',
      body: {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshotContent',
        metadata: { name: contentName },
        spec: {
          deletionPolicy: 'Retain',
          driver: DRIVER,
          source: { volumeHandle: '3f5e1c2a-hostpath-volume' },
          volumeSnapshotClassName: CLASS,
          volumeSnapshotRef: {
            apiVersion: 'snapshot.storage.k8s.io/v1',
            kind: 'VolumeSnapshot',
            namespace,
            name,
            uid: vs.metadata.uid,
          },
        },
      },
    })) as VolumeSnapshotContent;
    content.status = {
      snapshotHandle: outcome.handle ?? 'handle',
      readyToUse: true,
      restoreSize: 1073741824,
    };
    await objects.replaceClusterCustomObjectStatus({
      ...GROUP,
      plural: 'volumesnapshotcontents',
      name: contentName,
      body: content,
    });
    vs.status = {
      boundVolumeSnapshotContentName: contentName,
      readyToUse: true,
      restoreSize: '1Gi',
    };
  }
  await objects.replaceNamespacedCustomObjectStatus({
    ...GROUP,
    namespace,
    plural: 'volumesnapshots',
    name,
    body: vs,
  });
  return name;
}

/** Plays the snapshot controller for a pre-provisioned snapshot: it binds and reports readyToUse. */
async function playRestoreController(kc: KubeConfig, namespace: string): Promise<string> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  const name = await firstSnapshotIn(kc, namespace);
  const vs = await getSnapshot(kc, namespace, name);
  const contentName = vs.spec.source.volumeSnapshotContentName ?? '';
  const content = (await objects.getClusterCustomObject({
    ...GROUP,
    plural: 'volumesnapshotcontents',
    name: contentName,
  })) as VolumeSnapshotContent;
  content.status = {
    snapshotHandle: content.spec.source.snapshotHandle ?? '',
    readyToUse: true,
    restoreSize: 1073741824,
  };
  await objects.replaceClusterCustomObjectStatus({
    ...GROUP,
    plural: 'volumesnapshotcontents',
    name: contentName,
    body: content,
  });
  vs.status = { boundVolumeSnapshotContentName: contentName, readyToUse: true, restoreSize: '1Gi' };
  await objects.replaceNamespacedCustomObjectStatus({
    ...GROUP,
    namespace,
    plural: 'volumesnapshots',
    name,
    body: vs,
  });
  return name;
}

async function createIgnoringConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (statusOf(error) !== 409) throw error;
  }
}
