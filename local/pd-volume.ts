/**
 * A PersistentVolume of a GCE persistent disk through the PD CSI driver
 * (ext4, ReadWriteOnce, kept when released), pre-bound to its claim: the
 * kind of volume Lifeboat snapshots and restores, as the local cloud's
 * workloads and tests create it. Without controllers nothing provisions
 * one, so the claim names it (volumeName) and it names the claim.
 */
export function pdCsiVolume(
  name: string,
  options: {
    /** projects/P/zones/Z/disks/D, or projects/P/regions/R/disks/D. */
    volumeHandle: string;
    claimRef: { namespace: string; name: string; apiVersion?: string; kind?: string };
    /** Default 5Gi. */
    storage?: string;
    /** Default standard. */
    storageClassName?: string;
    nodeAffinity?: object;
  },
): object {
  return {
    metadata: { name },
    spec: {
      capacity: { storage: options.storage ?? '5Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: options.storageClassName ?? 'standard',
      claimRef: options.claimRef,
      csi: {
        driver: 'pd.csi.storage.gke.io',
        volumeHandle: options.volumeHandle,
        fsType: 'ext4',
      },
      ...(options.nodeAffinity ? { nodeAffinity: options.nodeAffinity } : {}),
    },
  };
}
