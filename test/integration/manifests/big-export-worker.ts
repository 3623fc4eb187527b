/**
 * One in-process backup of one namespace, in its own process so the test can
 * give it a small heap (as export-worker.ts does for the benchmark). Prints
 * one JSON line. Usage: STORE_URL KEY_FILE NAMESPACE BACKUP_ID
 */
import { runBackup } from '../../../shared/backup/run-backup.js';
import { loadSealer } from '../../../shared/catalog/data-key.js';
import { LocalKeyWrapper } from '../../../shared/crypto/key-wrapper.js';
import { openStore } from '../../../shared/store/open-store.js';
import { policy, SOURCE } from '../../../local/backup-fixture.js';
import { kubeHttp } from '../../../local/kube-requests.js';

const [storeUrl, keyFile, namespace, backupId] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const store = openStore(storeUrl);
const wrapper = new LocalKeyWrapper(keyFile);
const sealer = await loadSealer(store, wrapper);
const { catalog } = await runBackup(
  {
    http: kubeHttp('source'),
    store,
    sealer,
    encryption: { keyId: sealer.keyId, wrappedBy: wrapper.id },
  },
  {
    backupId,
    cluster: SOURCE,
    policy: policy({ filters: { includeNamespaces: [namespace] } }),
  },
);
process.stdout.write(
  `${JSON.stringify({
    phase: catalog.phase,
    objects: catalog.counts.objects,
    packs: catalog.counts.packs,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`,
);
process.exit(0);
