import type { Catalog } from '../catalog/catalog-schema.js';
import type { Sealer } from '../crypto/sealer.js';
import { labelValue } from '../disks/names.js';
import { errorMessage } from '../errors.js';
import { qualifiedName } from '../kube/discovery.js';
import { getOrUndefined, resourcePath, type KubeHttp } from '../kube/kube-http.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { DrillObjectMismatch, DrillVolumeCheck } from '../messages/drill.js';
import { RESTORE_LABEL } from '../restore/apply-object.js';
import type { RestoreReport } from '../restore/report.js';
import { decide, fetchPack } from '../restore/restore-plan.js';
import type { RestoreJob } from '../restore/run-restore.js';
import type { ObjectStore } from '../store/object-store.js';
import { Deadline } from '../time/deadline.js';
import { poll } from '../time/retry.js';
import { compareRestored } from './drill-compare.js';
import { RESTORE_DISK_LABEL, type DrillDisks } from './drill-disks.js';

export interface ObjectFindings {
  compared: number;
  equal: number;
  comparedInPlace: number;
  mismatches: DrillObjectMismatch[];
  failedObjects: string[];
}

const outcomeKey = (resource: string, namespace: string | undefined, name: string): string =>
  `${resource}/${namespace ?? ''}/${name}`;

/**
 * Compares every object the restore was to put back with its catalog record,
 * as the restore decided it (namespace mapped): read again from the packs,
 * looked up in the drill cluster. A PV restored from a snapshot is checked
 * with its volume instead (it gets the new disk's name and handle). An
 * object the restore skipped because the drill cluster already had it (a
 * cluster-scoped one) is compared in place and noted, not failed.
 */
export async function verifyObjects(
  http: KubeHttp,
  store: ObjectStore,
  catalog: Catalog,
  job: RestoreJob,
  report: RestoreReport,
  sealer: Sealer | undefined,
): Promise<ObjectFindings> {
  const outcomes = new Map(
    report.outcomes.map((o) => [outcomeKey(o.resource, o.namespace, o.name), o]),
  );
  const volumePvs = new Set(
    job.options.volumeDataPolicy === 'restore-from-snapshot'
      ? catalog.volumes.filter((v) => v.status === 'READY').map((v) => v.pvName)
      : [],
  );
  const drilled = new Set(Object.values(job.options.namespaceMapping));
  const found: ObjectFindings = {
    compared: 0,
    equal: 0,
    comparedInPlace: 0,
    mismatches: [],
    failedObjects: [],
  };
  for (const entry of catalog.packs) {
    const pack = await fetchPack(store, catalog.backupId, entry);
    for (let r = 0; r < pack.count; r++) {
      const record = pack.record(r);
      const decision = decide(record, job, sealer);
      if (decision.kind !== 'planned') continue;
      const expected = decision.object;
      if (record.ref.resource === 'persistentvolumes' && record.ref.group === '') {
        // Checked with its volume; one whose claim is not drilled is not the drill's (nor written).
        const claimNs = (expected['spec'] as { claimRef?: { namespace?: string } } | undefined)
          ?.claimRef?.namespace;
        if (volumePvs.has(record.ref.name)) continue;
        if (claimNs !== undefined && !drilled.has(claimNs)) continue;
      }
      const resource = qualifiedName(record.ref);
      const namespace = expected.metadata.namespace;
      const name = expected.metadata.name;
      const where = { resource, ...(namespace !== undefined ? { namespace } : {}), name };
      const outcome = outcomes.get(outcomeKey(resource, namespace, name));
      found.compared += 1;
      if (outcome?.outcome === 'failed') {
        const reason = outcome.reason ?? 'failed';
        found.failedObjects.push(
          `${resource} ${namespace ? `${namespace}/` : ''}${name}: ${reason}`,
        );
        found.mismatches.push({ ...where, problem: 'failed', detail: reason });
        continue;
      }
      const live = await getOrUndefined<KubeObject>(
        http,
        resourcePath(record.ref, namespace, name),
      );
      if (!live) {
        found.mismatches.push({ ...where, problem: 'missing' });
        continue;
      }
      // Already in the drill cluster and not the drill's: compared where it is, never overwritten.
      const inPlace =
        namespace === undefined && live.metadata.labels?.[RESTORE_LABEL] !== job.restoreId;
      if (inPlace) found.comparedInPlace += 1;
      const paths = compareRestored(live, expected, record.ref.group);
      if (paths.length === 0) {
        found.equal += 1;
        continue;
      }
      found.mismatches.push({
        ...where,
        problem: 'differs',
        detail: `differs at ${paths.join(', ')}${inPlace ? ' (the drill cluster’s own object, not overwritten)' : ''}`,
        ...(inPlace ? { inPlace: true } : {}),
      });
    }
  }
  return found;
}

/**
 * Every volume of the catalog whose claim the drill restored: the claim is
 * Bound to the restored PV, the PV names the disk the restore made, and
 * that disk exists, carries the restore's label and was made from the
 * volume's snapshot. The drill cluster's PV controller binds the pre-bound
 * pair; waited on until `bindTimeoutMs`.
 */
export async function verifyVolumes(
  http: KubeHttp,
  disks: DrillDisks | undefined,
  catalog: Catalog,
  job: RestoreJob,
  report: RestoreReport,
  bindTimeoutMs: number,
): Promise<DrillVolumeCheck[]> {
  const mapping = job.options.namespaceMapping;
  const restored = new Map(report.volumes.map((v) => [v.pvName, v]));
  const claims = catalog.volumes.filter(
    (v) => v.pvcName && v.pvcNamespace && mapping[v.pvcNamespace] !== undefined,
  );
  const deadline = Deadline.after(bindTimeoutMs);
  const checks: DrillVolumeCheck[] = [];
  for (const entry of claims) {
    const namespace = mapping[entry.pvcNamespace!]!;
    const claim = `${namespace}/${entry.pvcName!}`;
    const base = {
      pvName: entry.pvName,
      claim,
      ...(entry.snapshot
        ? { snapshot: `projects/${entry.snapshot.project}/global/snapshots/${entry.snapshot.name}` }
        : {}),
    };
    const volume = restored.get(entry.pvName);
    const fail = (detail: string, disk?: string): DrillVolumeCheck => ({
      ...base,
      ...(disk ? { disk } : {}),
      bound: false,
      detail,
    });
    if (!volume || volume.outcome !== 'restore-from-snapshot' || !volume.disk) {
      checks.push(
        fail(
          volume
            ? `not restored from its snapshot: ${volume.outcome}${volume.reason ? ` (${volume.reason})` : ''}`
            : `the restore did not restore it${entry.status !== 'READY' ? ` (its snapshot is ${entry.status}${entry.reason ? `: ${entry.reason}` : ''})` : ''}`,
        ),
      );
      continue;
    }
    const disk = volume.disk;
    const diskName = disk.slice(disk.lastIndexOf('/') + 1);
    try {
      let pvc: KubeObject | undefined;
      let pv: KubeObject | undefined;
      // Past the deadline the last look is what is checked.
      await poll(deadline, 250, async () => {
        pvc = await getOrUndefined<KubeObject>(
          http,
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/persistentvolumeclaims/${encodeURIComponent(entry.pvcName!)}`,
        );
        pv = await getOrUndefined<KubeObject>(
          http,
          `/api/v1/persistentvolumes/${encodeURIComponent(diskName)}`,
        );
        const phase = (o: KubeObject | undefined): unknown =>
          (o?.['status'] as { phase?: string } | undefined)?.phase;
        return phase(pvc) === 'Bound' && phase(pv) === 'Bound' ? true : undefined;
      });
      const problems = volumeProblems(pvc, pv, diskName, disk);
      if (disks) {
        const found = await disks.get(disk);
        if (!found) problems.push(`disk ${disk} does not exist`);
        else {
          if (found.labels[RESTORE_DISK_LABEL] !== labelValue(job.restoreId))
            problems.push(`disk ${disk} was not made by this drill`);
          if (base.snapshot && found.sourceSnapshot !== base.snapshot)
            problems.push(
              `disk ${disk} was made from ${found.sourceSnapshot ?? 'no snapshot'}, not ${base.snapshot}`,
            );
        }
      } else {
        problems.push('the disk could not be looked at (no Compute Engine client)');
      }
      checks.push(
        problems.length === 0 ? { ...base, disk, bound: true } : fail(problems.join('; '), disk),
      );
    } catch (error) {
      checks.push(fail(errorMessage(error), disk));
    }
  }
  return checks;
}

function volumeProblems(
  pvc: KubeObject | undefined,
  pv: KubeObject | undefined,
  diskName: string,
  diskPath: string,
): string[] {
  if (!pvc) return ['the claim is not in the drill cluster'];
  if (!pv) return [`no PV ${diskName} in the drill cluster`];
  const problems: string[] = [];
  const pvcSpec = pvc['spec'] as { volumeName?: string } | undefined;
  const pvcPhase = (pvc['status'] as { phase?: string } | undefined)?.phase ?? 'no phase';
  if (pvcPhase !== 'Bound') problems.push(`the claim is ${pvcPhase}, not Bound`);
  if (pvcSpec?.volumeName !== diskName)
    problems.push(`the claim names volume ${pvcSpec?.volumeName ?? '(none)'}, not ${diskName}`);
  const spec = pv['spec'] as
    | {
        csi?: { volumeHandle?: string };
        gcePersistentDisk?: { pdName?: string };
        claimRef?: { uid?: string };
      }
    | undefined;
  const handle = spec?.csi?.volumeHandle ?? spec?.gcePersistentDisk?.pdName;
  if (handle !== diskPath && handle !== diskName)
    problems.push(`the PV points at ${handle ?? 'no disk'}, not ${diskPath}`);
  if (spec?.claimRef?.uid !== undefined && spec.claimRef.uid !== pvc.metadata['uid'])
    problems.push('the PV is bound to another claim');
  return problems;
}
