/**
 * One restore of the bench backup into fresh namespaces, in its own
 * process (run with a 128 MiB heap) so that its peak RSS is the restore's
 * alone. Prints one JSON line. Usage: N PREFIX BACKUP_ID RUN
 */
import { loadSealer } from '../shared/catalog/data-key.js';
import { LocalKeyWrapper } from '../shared/crypto/key-wrapper.js';
import { RestoreOptions } from '../shared/messages/restore.js';
import { runRestore } from '../shared/restore/run-restore.js';
import { validate } from '../shared/validate.js';
import { benchKeyFile, benchStore, http, ownCpuMs, seconds } from './bench-env.js';
import { benchNamespaces } from './seed.js';

const [n, prefix, backupId, run] = [
  Number(process.argv[2]),
  String(process.argv[3]),
  String(process.argv[4]),
  String(process.argv[5]),
];
const store = await benchStore(prefix);
const sealer = await loadSealer(store, new LocalKeyWrapper(benchKeyFile()));
const mapping = Object.fromEntries(benchNamespaces(n).map((ns, i) => [ns, `rl${run}-${i}`]));
const started = performance.now();
const cpuStarted = ownCpuMs();
const report = await runRestore(
  { http: http('target'), store, sealer },
  {
    restoreId: `bench-${run}`,
    source: { project: 'local', location: 'local', name: 'source' },
    backupId,
    target: { project: 'local', location: 'local', name: 'target' },
    options: validate(RestoreOptions, { namespaceMapping: mapping }, 'bench restore options'),
  },
);
const restoreMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({
    phase: report.phase,
    ...report.counts,
    restore_s: seconds(restoreMs),
    restore_cpu_s: seconds(ownCpuMs() - cpuStarted),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`,
);
process.exit(0);
