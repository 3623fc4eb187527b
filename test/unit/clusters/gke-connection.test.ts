import { strict as assert } from 'node:assert';
import type { GoogleAuth } from 'google-auth-library';
import { PassThroughClient } from 'google-auth-library';
import { containerClientOptions } from '../../../shared/clusters/container-client-options.js';
import { adcAccessToken, gkeKubeConfig } from '../../../shared/clusters/gke-kubeconfig.js';
import { PermanentError, TransientError } from '../../../shared/errors.js';

describe('connecting to GKE', () => {
  describe('containerClientOptions', () => {
    it('uses the REST transport and ADC for the real API', () => {
      assert.deepEqual(containerClientOptions(), { fallback: true });
      assert.deepEqual(containerClientOptions(''), { fallback: true });
    });

    it('points an http:// endpoint at host and port, over http, without credentials', () => {
      const options = containerClientOptions('http://127.0.0.1:8123');
      assert.equal(options.fallback, true);
      assert.equal(options.apiEndpoint, '127.0.0.1');
      assert.equal(options.port, 8123);
      assert.equal(options.protocol, 'http');
      assert.ok(options.authClient instanceof PassThroughClient);
    });

    it('keeps credentials for an https:// endpoint', () => {
      const options = containerClientOptions('https://container.example.test');
      assert.deepEqual(options, {
        fallback: true,
        apiEndpoint: 'container.example.test',
        port: 443,
      });
    });

    it('rejects what is not a bare http(s) URL', () => {
      assert.throws(() => containerClientOptions('container.googleapis.com'), PermanentError);
      assert.throws(() => containerClientOptions('http://127.0.0.1:1/v1'), /must have no path/);
      assert.throws(() => containerClientOptions('ftp://127.0.0.1'), /http:\/\/ or https:\/\//);
    });
  });

  describe('gkeKubeConfig', () => {
    const ref = { project: 'prod-project', location: 'us-central1', name: 'shop' };

    it('builds the context gcloud would: https endpoint, cluster CA, bearer token', async () => {
      const ca = Buffer.from(
        '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
      ).toString('base64');
      const kc = gkeKubeConfig(ref, '34.118.1.2', ca, 'ya29.token');
      assert.equal(kc.getCurrentContext(), 'gke_prod-project_us-central1_shop');
      assert.equal(kc.getCurrentCluster()?.server, 'https://34.118.1.2');
      assert.equal(kc.getCurrentCluster()?.caData, ca);
      assert.equal(kc.getCurrentCluster()?.skipTLSVerify, false);
      const options: { headers: Record<string, string> } = { headers: {} };
      await kc.applyToHTTPSOptions(options);
      assert.equal(options.headers['Authorization'], 'Bearer ya29.token');
    });

    it('leaves the CA out for the DNS endpoint (publicly trusted)', () => {
      const kc = gkeKubeConfig(ref, 'gke-abc.us-central1.gke.goog', undefined, 't');
      assert.equal(kc.getCurrentCluster()?.caData, undefined);
    });
  });

  describe('adcAccessToken', () => {
    const auth = (getAccessToken: () => Promise<string | null | undefined>): GoogleAuth =>
      ({ getAccessToken }) as unknown as GoogleAuth;

    it('returns the token ADC gives', async () => {
      assert.equal(await adcAccessToken(auth(async () => 'ya29.abc'))(), 'ya29.abc');
    });

    it('is permanent when there are no credentials, transient otherwise', async () => {
      await assert.rejects(
        adcAccessToken(
          auth(async () => {
            throw new Error('Could not load the default credentials. Browse to https://...');
          }),
        )(),
        (e: unknown) => e instanceof PermanentError && /default credentials/.test(e.message),
      );
      await assert.rejects(
        adcAccessToken(
          auth(async () => {
            throw new Error('metadata server: ETIMEDOUT');
          }),
        )(),
        TransientError,
      );
      await assert.rejects(adcAccessToken(auth(async () => null))(), TransientError);
    });
  });
});
