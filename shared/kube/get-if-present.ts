import { KubeApiError, type KubeHttp } from './kube-http.js';

/** A GET from the API server, or undefined when it answers 404 (no such object, group or version). */
export async function kubeGetIfPresent<T>(http: KubeHttp, path: string): Promise<T | undefined> {
  try {
    return await http.request<T>('GET', path);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  }
}
