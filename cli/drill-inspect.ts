import { listDrills, readDrillReport } from '../shared/drill/drill-store.js';
import { NotFoundError } from '../shared/errors.js';
import { DrillId } from '../shared/messages/drill.js';
import { storeFrom } from './connect.js';
import { CliNotFoundError, ExitCode } from './exit-codes.js';
import { validateFlags, type OutputFormat } from './options.js';
import { emit } from './output.js';
import { formatDrillList, formatDrillReport } from './drill-view.js';

export interface DrillInspectFlags {
  store?: string;
  output: OutputFormat;
}

/** `drill get`: every drill in the store, newest first; one whose report cannot be read makes exit 1. */
export async function getDrills(flags: DrillInspectFlags): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const { reports, unreadable } = await listDrills(store);
  emit(flags.output, { items: reports, unreadable }, () => formatDrillList(reports));
  for (const u of unreadable) process.stderr.write(`lifeboat: drill "${u.drillId}": ${u.reason}\n`);
  return unreadable.length > 0 ? ExitCode.NotFullSuccess : ExitCode.Ok;
}

/** `drill describe ID`: the drill's report; exit 1 when the drill failed, 3 when there is none. */
export async function describeDrill(id: string, flags: DrillInspectFlags): Promise<ExitCode> {
  const store = storeFrom(flags.store);
  const drillId = validateFlags(DrillId, id, 'drill name');
  let report;
  try {
    report = await readDrillReport(store, drillId);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new CliNotFoundError(`drill "${drillId}" not found in ${store.url}`);
    }
    throw error;
  }
  emit(flags.output, report, () => formatDrillReport(report));
  return report.verdict === 'passed' ? ExitCode.Ok : ExitCode.NotFullSuccess;
}
