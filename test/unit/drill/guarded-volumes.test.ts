import { strict as assert } from 'node:assert';
import { KubeConfig } from '@kubernetes/client-node';
import type { VolumeEntry } from '../../../shared/catalog/catalog-schema.js';
import { DrillKubeHttp, DrillSafetyError } from '../../../shared/drill/drill-guard.js';
import { guardedVolumes } from '../../../shared/drill/drill-volumes.js';
import { DiskVolumeRestore } from '../../../shared/restore/restore-volume.js';
import type { VolumeRestore } from '../../../shared/restore/restore-volume.js';
import { FakeSnapshotter } from '../disks/fake-snapshotter.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
  users: [{ name: 'u', token: 't' }],
  contexts: [{ name: 'drills', cluster: 'c', user: 'u' }],
  currentContext: 'drills',
});
const guarded = new DrillKubeHttp(kubeConfig, 'w48', 'drill-w48');

const diskVolume: VolumeEntry = {
  pvName: 'pv-disk',
  driver: 'pd.csi.storage.gke.io',
  disk: { project: 'acme', name: 'disk-1', zone: 'europe-west1-b' },
  snapshot: { project: 'acme', name: 'snap-1' },
  status: 'READY',
};
const csiVolume: VolumeEntry = {
  pvName: 'pv-hostpath',
  driver: 'hostpath.csi.k8s.io',
  csiSnapshot: {
    volumeSnapshotClass: 'retain',
    namespace: 'shop',
    name: 'lb-b1-data-0',
    snapshotHandle: 'handle-1',
  },
  status: 'READY',
};

/** A volume restore that can only make its objects through a client of its own. */
const unguardable: VolumeRestore = {
  prepare: () => Promise.resolve({ volumes: [], drop: new Set() }),
};

describe('a drill restores volumes only through its guarded client', () => {
  after(() => guarded.close());

  it('routes the CSI objects of DiskVolumeRestore through the guarded client', () => {
    const volumes = new DiskVolumeRestore(kubeConfig, new FakeSnapshotter());
    const routed = guardedVolumes(volumes, guarded, { volumes: [csiVolume] });
    assert.ok(routed instanceof DiskVolumeRestore);
    assert.notEqual(routed, volumes, 'a volume restore over the guarded client, not the original');
  });

  it('refuses, naming the volume, a volume restore it cannot guard for a backup with CSI volumes', () => {
    assert.throws(
      () => guardedVolumes(unguardable, guarded, { volumes: [diskVolume, csiVolume] }),
      (error: unknown) =>
        error instanceof DrillSafetyError &&
        /volume pv-hostpath is restored through CSI snapshot objects/.test(error.message),
    );
  });

  it('lets one through for disks alone, which it makes at Compute Engine, not in the cluster', () => {
    assert.equal(guardedVolumes(unguardable, guarded, { volumes: [diskVolume] }), unguardable);
    assert.equal(guardedVolumes(undefined, guarded, { volumes: [csiVolume] }), undefined);
  });
});
