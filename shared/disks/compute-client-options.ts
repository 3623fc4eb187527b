import type { DisksClient } from '@google-cloud/compute';
import { restClientOptions } from '../rest-endpoint.js';

/** What every `@google-cloud/compute` v1 client constructor accepts (google-gax ClientOptions). */
export type ComputeClientOptions = NonNullable<ConstructorParameters<typeof DisksClient>[0]>;

/**
 * Client options for a Compute Engine endpoint (the `computeEndpoint`
 * setting, LIFEBOAT_COMPUTE_ENDPOINT): the real API when unset, a local
 * stand-in for `http://host:port` (see restClientOptions).
 */
export function computeClientOptions(endpoint?: string): ComputeClientOptions {
  return restClientOptions(endpoint, 'Compute', '/compute/v1');
}
