import type { BackupFilters } from '../messages/common.js';
import { volumeSelected } from '../kube/filters.js';
import type { KubeHttp } from '../kube/kube-http.js';

interface PersistentVolumeList {
  items: { metadata: { name: string }; spec?: { claimRef?: { namespace?: string } } }[];
}

/**
 * The persistent volumes a backup captures: those claimed from a selected
 * namespace, and unclaimed ones only when every namespace is selected.
 */
export async function volumesToSnapshot(http: KubeHttp, filters: BackupFilters): Promise<string[]> {
  const list = await http.request<PersistentVolumeList>('GET', '/api/v1/persistentvolumes');
  return list.items
    .filter((pv) => volumeSelected(pv.spec?.claimRef?.namespace, filters))
    .map((pv) => pv.metadata.name)
    .sort();
}
