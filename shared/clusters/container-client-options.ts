import type { ClusterManagerClient } from '@google-cloud/container';
import { restClientOptions } from '../rest-endpoint.js';

/** What the `@google-cloud/container` v1 ClusterManagerClient constructor accepts (google-gax ClientOptions). */
export type ContainerClientOptions = NonNullable<
  ConstructorParameters<typeof ClusterManagerClient>[0]
>;

/**
 * Client options for a GKE Container API endpoint (the `containerEndpoint`
 * setting, LIFEBOAT_CONTAINER_ENDPOINT): the real API when unset, a local
 * stand-in for `http://host:port` (see restClientOptions). REST matters
 * here: the container client defaults to gRPC.
 */
export function containerClientOptions(endpoint?: string): ContainerClientOptions {
  return restClientOptions(endpoint, 'Container API', '/v1/projects/...');
}
