import type { BackupFilters } from '../messages/common.js';
import { selected } from '../kube/filters.js';
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
  const allNamespaces =
    filters.includeNamespaces.includes('*') && filters.excludeNamespaces.length === 0;
  return list.items
    .filter((pv) => {
      const ns = pv.spec?.claimRef?.namespace;
      return ns === undefined
        ? allNamespaces
        : selected(ns, filters.includeNamespaces, filters.excludeNamespaces);
    })
    .map((pv) => pv.metadata.name)
    .sort();
}
