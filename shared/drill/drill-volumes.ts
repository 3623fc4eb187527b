import type { Catalog } from '../catalog/catalog-schema.js';
import type { KubeHttp } from '../kube/kube-http.js';
import type { VolumeRestore } from '../restore/restore-volume.js';
import { customObjectsOver } from './drill-custom-objects.js';
import { DrillSafetyError } from './drill-guard.js';

/**
 * The volume restore with its writes in the drill cluster (CSI snapshot
 * objects) made through the drill's guarded client. One that cannot be
 * guarded is refused for a backup with CSI volumes, before anything is
 * written; for disks alone nothing of it writes to the cluster.
 */
export function guardedVolumes(
  volumes: VolumeRestore | undefined,
  guarded: KubeHttp,
  catalog: Pick<Catalog, 'volumes'>,
): VolumeRestore | undefined {
  if (!volumes) return undefined;
  if (volumes.withCustomObjects) return volumes.withCustomObjects(customObjectsOver(guarded));
  const csi = catalog.volumes.find((v) => v.csiSnapshot);
  if (csi) {
    throw new DrillSafetyError(
      `volume ${csi.pvName} is restored through CSI snapshot objects, and this volume restore cannot make them through the drill's guarded client`,
    );
  }
  return volumes;
}
