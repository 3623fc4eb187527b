/**
 * One backup of the bench namespaces, in its own process so that its peak
 * RSS is the export's alone. Prints one JSON line.
 * Usage: N PREFIX BACKUP_ID [CLUSTER NAMESPACE]: by default the source's
 * bench-N-* namespaces; with CLUSTER (source or target) and NAMESPACE, that
 * one namespace, named without a wildcard so it is listed namespace by namespace.
 */
import { runBackup } from '../shared/backup/run-backup.js';
import { loadSealer } from '../shared/catalog/data-key.js';
import { LocalKeyWrapper } from '../shared/crypto/key-wrapper.js';
import { benchKeyFile, benchStore, http, ownCpuMs, seconds } from './bench-env.js';
import { CountingStore } from './counting-store.js';
import { benchPolicy } from './bench-policy.js';

const [n, prefix, backupId] = [
  Number(process.argv[2]),
  String(process.argv[3]),
  String(process.argv[4]),
];
const cluster = process.argv[5] ?? 'source';
if (cluster !== 'source' && cluster !== 'target') {
  throw new Error(`export worker: CLUSTER must be source or target, not ${cluster}`);
}
const namespace = process.argv[6];
const store = new CountingStore(await benchStore(prefix));
const wrapper = new LocalKeyWrapper(benchKeyFile());
const sealer = await loadSealer(store, wrapper);
const policy = benchPolicy(n, namespace);
const started = performance.now();
const cpuStarted = ownCpuMs();
const { catalog } = await runBackup(
  {
    http: http(cluster),
    store,
    sealer,
    encryption: { keyId: sealer.keyId, wrappedBy: wrapper.id },
  },
  { backupId, cluster: { project: 'local', location: 'local', name: cluster }, policy },
);
const exportMs = performance.now() - started;
const cpuMs = ownCpuMs() - cpuStarted;
process.stdout.write(
  `${JSON.stringify({
    backupId,
    phase: catalog.phase,
    objects: catalog.counts.objects,
    packs: catalog.counts.packs,
    export_s: seconds(exportMs),
    export_cpu_s: seconds(cpuMs),
    uploaded_bytes: store.writtenBytes,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`,
);
process.exit(0);
