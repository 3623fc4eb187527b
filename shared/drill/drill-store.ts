import { Type } from '@sinclair/typebox';
import { Layout } from '../catalog/layout.js';
import { errorMessage, NotFoundError, PermanentError } from '../errors.js';
import { DrillReport } from '../messages/drill.js';
import type { ClusterRef } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';
import { validate } from '../validate.js';

/** drills/<id>.json: where a drill's report is, so it is found by its id alone. */
const DrillIndex = Type.Object({ reportKey: Type.String({ minLength: 1 }) });

/** Where a drill's report goes: beside the backup it drilled, or under its id when it found none. */
export function drillReportKey(report: DrillReport): string {
  return report.backupId
    ? Layout.drillReport(report.source, report.backupId, report.drillId)
    : Layout.drillIndex(report.drillId);
}

/** Writes the report (beside its backup) and the index entry that finds it by id; returns its key. */
export async function writeDrillReport(store: ObjectStore, report: DrillReport): Promise<string> {
  const key = drillReportKey(report);
  await store.put(key, JSON.stringify(report, null, 1));
  if (key !== Layout.drillIndex(report.drillId)) {
    await store.put(Layout.drillIndex(report.drillId), JSON.stringify({ reportKey: key }));
  }
  return key;
}

async function readJson(store: ObjectStore, key: string): Promise<unknown> {
  const body = await store.get(key);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new PermanentError(`${key} is not valid JSON: ${errorMessage(error)}`);
  }
}

async function readReport(store: ObjectStore, key: string): Promise<DrillReport> {
  return validate(DrillReport, await readJson(store, key), `drill report ${key}`);
}

/** A drill's report by its id; NotFoundError when there is none (or its backup has expired). */
export async function readDrillReport(store: ObjectStore, drillId: string): Promise<DrillReport> {
  const indexKey = Layout.drillIndex(drillId);
  const index = await readJson(store, indexKey);
  if ((index as { kind?: unknown }).kind === 'DrillReport') return readReport(store, indexKey);
  const { reportKey } = validate(DrillIndex, index, `drill index ${indexKey}`);
  try {
    return await readReport(store, reportKey);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new NotFoundError(
        `drill ${drillId}: its report ${reportKey} is gone (the backup it drilled has expired)`,
      );
    }
    throw error;
  }
}

/** A drill's report when it has finished and its report can be read; undefined otherwise. */
export async function finishedDrillReport(
  store: ObjectStore,
  drillId: string,
): Promise<DrillReport | undefined> {
  try {
    return await readDrillReport(store, drillId);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** Every drill in the store whose report can still be read, newest first; the others by id with why. */
export async function listDrills(
  store: ObjectStore,
): Promise<{ reports: DrillReport[]; unreadable: { drillId: string; reason: string }[] }> {
  const reports: DrillReport[] = [];
  const unreadable: { drillId: string; reason: string }[] = [];
  for await (const info of store.list(Layout.drillIndexPrefix())) {
    const drillId = /^drills\/([^/]+)\.json$/.exec(info.key)?.[1];
    if (!drillId) continue;
    try {
      reports.push(await readDrillReport(store, drillId));
    } catch (error) {
      unreadable.push({ drillId, reason: errorMessage(error) });
    }
  }
  reports.sort((a, b) => b.completedAt.localeCompare(a.completedAt));
  return { reports, unreadable };
}

/** The last drill of one backup (by completion time), if it was ever drilled. */
export async function lastDrillOf(
  store: ObjectStore,
  cluster: ClusterRef,
  backupId: string,
): Promise<DrillReport | undefined> {
  let last: DrillReport | undefined;
  for await (const info of store.list(Layout.drills(cluster, backupId))) {
    if (!info.key.endsWith('.json')) continue;
    const report = await readReport(store, info.key);
    if (!last || report.completedAt > last.completedAt) last = report;
  }
  return last;
}
