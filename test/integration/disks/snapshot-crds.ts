import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { statusOf } from '../../../shared/errors.js';

/** The CRD manifests, in the source tree (this file runs from dist/test/integration/disks). */
const crdDir = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  'test',
  'integration',
  'disks',
  'crds',
);
const CRD_FILES = [
  'volumesnapshotclasses.yaml',
  'volumesnapshotcontents.yaml',
  'volumesnapshots.yaml',
];

/**
 * Installs the snapshot.storage.k8s.io/v1 CRDs (idempotently: another test
 * may have installed them in this environment) and waits until the API
 * server serves all three.
 */
export async function installSnapshotCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const file of CRD_FILES) {
    const body = parse(readFileSync(join(crdDir, file), 'utf8')) as V1CustomResourceDefinition;
    try {
      await api.createCustomResourceDefinition({ body });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
    await waitFor(`CRD ${body.metadata?.name ?? file} Established`, async () => {
      const crd = await api.readCustomResourceDefinition({ name: body.metadata?.name ?? '' });
      return (
        crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ??
        false
      );
    });
  }
  const objects = kc.makeApiClient(CustomObjectsApi);
  await waitFor('volumesnapshots served', async () => {
    try {
      await objects.listClusterCustomObject({
        group: 'snapshot.storage.k8s.io',
        version: 'v1',
        plural: 'volumesnapshots',
      });
      return true;
    } catch {
      return false;
    }
  });
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
