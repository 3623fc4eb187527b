import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Sealer } from '../crypto/sealer.js';
import type { ClusterRef } from '../messages/common.js';
import { qualifiedName } from '../kube/discovery.js';
import { managedReason } from '../kube/ownership.js';
import type { KubeObject } from '../kube/sanitize.js';
import { loadBackup, manifestOf } from '../catalog/load-backup.js';
import { waveOf } from './order.js';
import type { ObjectStore } from '../store/object-store.js';

export interface ExportSummary {
  files: string[];
  objects: number;
  skipped: { name: string; reason: string }[];
}

/**
 * Writes a backup as plain YAML for `kubectl apply -f`: one file per
 * restore wave, named so that kubectl's alphabetical order is the restore
 * order. CRDs go to their own `00-crds` file, to apply (and wait on) first.
 * Objects a controller recreates are left out, and owner references dropped,
 * since their uids mean nothing in another cluster.
 */
export async function exportYaml(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
  dir: string,
  sealer: Sealer | undefined,
): Promise<ExportSummary> {
  const { records } = await loadBackup(store, cluster, backupId);
  const byWave = new Map<number, KubeObject[]>();
  const skipped: ExportSummary['skipped'] = [];
  const customGroups = new Set<string>();
  for (const r of records) {
    const group = (r.object?.['spec'] as { group?: string } | undefined)?.group;
    if (r.ref.kind === 'CustomResourceDefinition' && group) customGroups.add(group);
  }
  for (const record of records) {
    const label = `${record.ref.kind} ${record.ref.namespace ? `${record.ref.namespace}/` : ''}${record.ref.name}`;
    if (record.sealed && !sealer) {
      skipped.push({ name: label, reason: 'encrypted Secret: pass the key file to export it' });
      continue;
    }
    const obj = manifestOf(record, sealer);
    const managed = managedReason(obj, qualifiedName(record.ref));
    if (managed) {
      skipped.push({ name: label, reason: managed });
      continue;
    }
    delete obj.metadata.ownerReferences;
    const wave = waveOf(record.ref, false, customGroups);
    byWave.set(wave, [...(byWave.get(wave) ?? []), obj]);
  }
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  let objects = 0;
  for (const wave of [...byWave.keys()].sort((a, b) => a - b)) {
    const docs = byWave.get(wave) ?? [];
    const name = wave === 0 ? '00-crds.yaml' : `${String(wave).padStart(2, '0')}-objects.yaml`;
    const text = docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
    await writeFile(join(dir, name), text, { mode: 0o600 });
    files.push(name);
    objects += docs.length;
  }
  return { files, objects, skipped };
}
