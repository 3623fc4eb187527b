import { KubeConfig } from '@kubernetes/client-node';
import { GoogleAuth } from 'google-auth-library';
import { errorMessage, PermanentError, TransientError } from '../errors.js';
import type { ClusterRef } from '../messages/common.js';

/** An OAuth2 access token for the Kubernetes API of GKE clusters. */
export type AccessTokenProvider = () => Promise<string>;

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * Tokens from Application Default Credentials (the function's service
 * account on Google Cloud), as `gke-gcloud-auth-plugin` gets them.
 * google-auth-library caches a token and refreshes it before it expires.
 * No credentials at all is a deployment error (permanent); anything else,
 * a metadata server hiccup for one, is worth a retry.
 */
export function adcAccessToken(
  auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM] }),
): AccessTokenProvider {
  return async () => {
    let token: string | null | undefined;
    try {
      token = await auth.getAccessToken();
    } catch (error) {
      const message = `Unable to get an access token from Application Default Credentials: ${errorMessage(error)}`;
      throw /default credentials/i.test(errorMessage(error))
        ? new PermanentError(message, error)
        : new TransientError(message, error);
    }
    if (!token)
      throw new TransientError('Application Default Credentials returned no access token');
    return token;
  };
}

/** The context name gcloud gives a GKE cluster: gke_PROJECT_LOCATION_NAME. */
export const gkeContextName = (ref: ClusterRef): string =>
  `gke_${ref.project}_${ref.location}_${ref.name}`;

/**
 * A KubeConfig for one GKE cluster, as `gcloud container clusters
 * get-credentials` writes it: `https://ENDPOINT`, the cluster CA (base64
 * PEM, as masterAuth.clusterCaCertificate carries it; none for the DNS
 * endpoint, whose certificate is publicly trusted) and a bearer token. The
 * token is fixed: access tokens live about an hour, far longer than a
 * function invocation, so whoever holds the KubeConfig longer should
 * connect again.
 */
export function gkeKubeConfig(
  ref: ClusterRef,
  endpoint: string,
  caData: string | undefined,
  token: string,
): KubeConfig {
  const name = gkeContextName(ref);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name, server: `https://${endpoint}`, skipTLSVerify: false, ...(caData ? { caData } : {}) },
    ],
    users: [{ name, token }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  return kc;
}
