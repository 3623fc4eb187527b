import type { CustomObjectsClient } from '../disks/csi-snapshotter.js';
import { pathSegment, type KubeHttp } from '../kube/kube-http.js';

type Call<K extends keyof CustomObjectsClient> = Parameters<CustomObjectsClient[K]>[0];

interface Where {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
}

function customPath(w: Where): string {
  const ns =
    w.namespace === undefined ? '' : `/namespaces/${pathSegment(w.namespace, 'namespace')}`;
  const name = w.name === undefined ? '' : `/${pathSegment(w.name, 'name')}`;
  return `/apis/${pathSegment(w.group, 'API group')}/${pathSegment(w.version, 'API version')}${ns}/${pathSegment(w.plural, 'resource')}${name}`;
}

/**
 * The custom-object calls of the CSI path made through a KubeHttp: given a
 * drill's guarded client, the VolumeSnapshotContents and VolumeSnapshots a
 * restore makes for CSI volumes pass the same checks as every other write
 * of the drill (cluster-scoped only with its label, referring to no
 * namespace outside it; namespaced only in its namespaces). Errors keep
 * their HTTP status, which the CSI path reads (409: adopt, 404: absent).
 */
export function customObjectsOver(http: KubeHttp): CustomObjectsClient {
  return {
    createClusterCustomObject: (p: Call<'createClusterCustomObject'>) =>
      http.request('POST', customPath(p), { body: p.body as unknown }),
    createNamespacedCustomObject: (p: Call<'createNamespacedCustomObject'>) =>
      http.request('POST', customPath(p), { body: p.body as unknown }),
    getClusterCustomObject: (p: Call<'getClusterCustomObject'>) =>
      http.request('GET', customPath(p)),
    getNamespacedCustomObject: (p: Call<'getNamespacedCustomObject'>) =>
      http.request('GET', customPath(p)),
  };
}
