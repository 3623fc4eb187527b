import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetadataStandin } from '../../../local/standins/metadata/server.js';

/** dist/shared/clusters/gke-kubeconfig.js, beside this file's dist/test/integration/clusters. */
const gkeKubeconfig = fileURLToPath(
  new URL('../../../shared/clusters/gke-kubeconfig.js', import.meta.url),
);

/**
 * What a function's adcAccessToken gets, in a process of its own (ADC is
 * decided once per process), as a Cloud Function runs: K_SERVICE set, the
 * metadata server at GCE_METADATA_HOST, no credentials file anywhere.
 */
function tokensInFunction(
  metadata: MetadataStandin,
  calls: number,
): Promise<{ tokens?: string[]; error?: { name: string; message: string } }> {
  const script = `
    const { adcAccessToken } = await import(${JSON.stringify(gkeKubeconfig)});
    const token = adcAccessToken();
    try {
      const tokens = [];
      for (let i = 0; i < ${calls}; i++) tokens.push(await token());
      console.log(JSON.stringify({ tokens }));
    } catch (e) {
      console.log(JSON.stringify({ error: { name: e.constructor.name, message: e.message } }));
    }`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: mkdtempSync(join(tmpdir(), 'lifeboat-adc-')),
    K_SERVICE: 'restore',
    GOOGLE_CLOUD_PROJECT: 'lifeboat-local',
    ...metadata.environment(),
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as never);
      },
    );
  });
}

describe('Application Default Credentials from the metadata server stand-in', function () {
  this.timeout(120_000);
  let metadata: MetadataStandin;

  beforeEach(async () => {
    metadata = await MetadataStandin.start({
      projectId: 'lifeboat-local',
      accessToken: 'ya29.function-token',
    });
  });
  afterEach(async () => metadata?.stop());

  it('hands a function its service account token once, which the library then keeps', async () => {
    const result = await tokensInFunction(metadata, 3);
    assert.deepEqual(result, {
      tokens: ['ya29.function-token', 'ya29.function-token', 'ya29.function-token'],
    });
    assert.equal(metadata.tokensIssued, 1, JSON.stringify(metadata.requests));
    assert.deepEqual(
      metadata.requests.filter((r) => r.status !== 200),
      [],
      JSON.stringify(metadata.requests),
    );
  });

  it('answers as the real server does: the flavor header both ways, directories, JSON', async () => {
    const base = `http://${metadata.host}/computeMetadata/v1`;
    const flavor = { 'Metadata-Flavor': 'Google' };
    const refused = await fetch(`${base}/project/project-id`);
    assert.equal(refused.status, 403);
    const forwarded = await fetch(`${base}/project/project-id`, {
      headers: { ...flavor, 'X-Forwarded-For': '10.0.0.1' },
    });
    assert.equal(forwarded.status, 403);
    const project = await fetch(`${base}/project/project-id`, { headers: flavor });
    assert.equal(project.headers.get('metadata-flavor'), 'Google');
    assert.equal(await project.text(), 'lifeboat-local');
    const token = await fetch(`${base}/instance/service-accounts/default/token`, {
      headers: flavor,
    });
    assert.match(String(token.headers.get('content-type')), /application\/json/);
    const body = (await token.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
    assert.equal(body['token_type'], 'Bearer');
    assert.ok(Number(body['expires_in']) > 3000);
    const moved = await fetch(`${base}/instance`, { headers: flavor, redirect: 'manual' });
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.get('location'), `${base}/instance/`);
    const listing = await fetch(`${base}/instance/`, { headers: flavor });
    assert.match(await listing.text(), /^service-accounts\/$/m);
    const missing = await fetch(`${base}/instance/no-such-key`, { headers: flavor });
    assert.equal(missing.status, 404);
  });

  it('a metadata server that fails is a transient error, worth a retry', async () => {
    metadata.failNext(20, 503);
    const result = await tokensInFunction(metadata, 1);
    assert.equal(result.error?.name, 'TransientError', JSON.stringify(result));
    assert.match(String(result.error?.message), /Application Default Credentials/);
    assert.ok(metadata.requests.some((r) => r.status === 503));
  });
});
