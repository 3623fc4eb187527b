import { KubeApiError, resourcePath, type KubeHttp } from '../kube/kube-http.js';
import type { KubeObject } from '../kube/sanitize.js';

interface ServiceRef {
  namespace?: string;
  name?: string;
}

interface Webhook {
  name?: string;
  failurePolicy?: string;
  clientConfig?: { service?: ServiceRef };
}

const SERVICES = { group: '', version: 'v1', resource: 'services', namespaced: true };
const SLICES = {
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
  namespaced: true,
};

/** Why a Service cannot answer yet, or undefined when some endpoint is ready. */
async function serviceProblem(http: KubeHttp, svc: ServiceRef): Promise<string | undefined> {
  if (!svc.namespace || !svc.name) return undefined;
  const label = `Service ${svc.namespace}/${svc.name}`;
  try {
    await http.request('GET', resourcePath(SERVICES, svc.namespace, svc.name));
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404)
      return `${label} does not exist in the target`;
    throw error;
  }
  const slices = await http.request<{
    items: { endpoints?: { conditions?: { ready?: boolean } }[] }[];
  }>('GET', resourcePath(SLICES, svc.namespace), {
    query: { labelSelector: `kubernetes.io/service-name=${svc.name}` },
  });
  const ready = slices.items.some((s) =>
    (s.endpoints ?? []).some((e) => e.conditions?.ready !== false),
  );
  return ready ? undefined : `${label} has no ready endpoints`;
}

/**
 * For an object restored last because it intercepts requests (order.ts):
 * what will not answer yet, so the report says so. The restore cannot wait
 * for it: the service usually comes up from a workload the restore created.
 */
export async function interceptorWarning(
  http: KubeHttp,
  obj: KubeObject,
): Promise<string | undefined> {
  const problems: string[] = [];
  if (obj.kind === 'APIService') {
    const svc = (obj['spec'] as { service?: ServiceRef } | undefined)?.service;
    const problem = svc ? await serviceProblem(http, svc) : undefined;
    if (problem) problems.push(`${problem}: its API group is unavailable until it serves`);
  } else if (
    obj.kind === 'ValidatingWebhookConfiguration' ||
    obj.kind === 'MutatingWebhookConfiguration'
  ) {
    for (const hook of (obj['webhooks'] as Webhook[] | undefined) ?? []) {
      const svc = hook.clientConfig?.service;
      const problem = svc ? await serviceProblem(http, svc) : undefined;
      if (!problem) continue;
      const effect =
        hook.failurePolicy === 'Ignore'
          ? 'requests it matches pass unchecked'
          : 'requests it matches are refused';
      problems.push(`webhook ${hook.name ?? '?'}: ${problem} (${effect} until it runs)`);
    }
  }
  return problems.length > 0 ? `restored, not reachable yet: ${problems.join('; ')}` : undefined;
}
