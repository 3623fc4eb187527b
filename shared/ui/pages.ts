import { checkSeal } from '../catalog/catalog-seal.js';
import type { Catalog } from '../catalog/catalog-schema.js';
import type { PackRecord } from '../catalog/pack.js';
import { secretIdentity, type Sealer } from '../crypto/sealer.js';
import { errorMessage } from '../errors.js';
import type { KubeObject } from '../kube/sanitize.js';
import type { ClusterRef } from '../messages/common.js';
import { Layout } from '../catalog/layout.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Page } from './layout.js';
import type { PackCache } from './pack-cache.js';
import { loadClusterSummaries } from './load-clusters.js';
import {
  contentsEntries,
  loadCatalog,
  loadPacks,
  loadRecord,
  type ObjectKey,
} from './load-contents.js';
import { loadRestores, readRestoreReport } from './load-restores.js';
import { loadTimeline } from './load-timeline.js';
import { parseSearchQuery } from './search-query.js';
import { summarizeSecret } from './secret-summary.js';
import { clustersView } from './views/clusters-view.js';
import { contentsView } from './views/contents-view.js';
import { diffView } from './views/diff-view.js';
import { objectView, type ObjectInput } from './views/object-view.js';
import { restoresView, restoreView } from './views/restores-view.js';
import { timelineView } from './views/timeline-view.js';

/** What every page reads from: the store, the data key if given, and the clock. */
export interface PageContext {
  store: ObjectStore;
  sealer: Sealer | undefined;
  now: Date;
  /** Packs kept between requests (content-addressed, so never stale). */
  packs: PackCache;
}

export const clustersPage = async (ctx: PageContext): Promise<Page> =>
  clustersView(await loadClusterSummaries(ctx.store, ctx.now), ctx.now, ctx.store.url);

export const timelinePage = async (ctx: PageContext, cluster: ClusterRef): Promise<Page> =>
  timelineView(await loadTimeline(ctx.store, cluster, ctx.now));

async function authenticityOf(ctx: PageContext, catalog: Catalog): Promise<string> {
  try {
    const a = await checkSeal(ctx.store, catalog, ctx.sealer);
    if (a === 'authenticated') return 'authenticated: sealed with the data key';
    if (a === 'unverified') return 'sealed, not verified: start the UI with --key-file to check it';
    return 'not sealed with the data key (written before sealing, or never sealed)';
  } catch (error) {
    return `seal check failed: ${errorMessage(error)}`;
  }
}

/**
 * A backup's contents: the summary from its catalog is sent at once, the
 * objects from its packs follow when they are read and verified.
 */
export async function contentsPage(
  ctx: PageContext,
  cluster: ClusterRef,
  backupId: string,
  q: string,
): Promise<Page> {
  const query = parseSearchQuery(q);
  const catalog = await loadCatalog(ctx.store, cluster, backupId);
  const entries = loadPacks(ctx.store, catalog, ctx.packs).then(contentsEntries);
  // Awaited by the page's rest; marked handled now so a failure before then is not "unhandled".
  entries.catch(() => undefined);
  return contentsView({
    clusterKey: Layout.clusterKey(cluster),
    catalog,
    entries,
    query,
    q,
    authenticity: await authenticityOf(ctx, catalog),
  });
}

const isSecret = (record: PackRecord): boolean =>
  record.ref.group === '' && record.ref.kind === 'Secret';

/** A Secret's keys and sizes when the data key opens it, or why it cannot be opened. */
function secretInput(
  ctx: PageContext,
  catalog: Catalog,
  record: PackRecord,
): Pick<ObjectInput, 'secret' | 'sealedReason'> {
  if (!record.sealed) {
    // Lifeboat always seals Secrets; an unsealed one is still shown without its values.
    return record.object ? { secret: summarizeSecret(record.object) } : {};
  }
  if (!ctx.sealer) return { sealedReason: 'sealed: start the UI with --key-file to list its keys' };
  const keyId = catalog.encryption?.keyId;
  if (keyId !== undefined && keyId !== ctx.sealer.keyId) {
    return {
      sealedReason: `sealed with data key ${keyId}; the UI holds ${ctx.sealer.keyId}: start it with the key file of this store`,
    };
  }
  const { namespace, name } = record.ref;
  try {
    const secret = JSON.parse(
      ctx.sealer.open(record.sealed, secretIdentity(namespace, name)).toString('utf8'),
    ) as KubeObject;
    return { secret: summarizeSecret(secret) };
  } catch (error) {
    return { sealedReason: `sealed, and the data key does not open it: ${errorMessage(error)}` };
  }
}

export async function objectPage(
  ctx: PageContext,
  cluster: ClusterRef,
  backupId: string,
  key: ObjectKey,
): Promise<Page> {
  const catalog = await loadCatalog(ctx.store, cluster, backupId);
  const record = await loadRecord(ctx.store, catalog, ctx.packs, key);
  const base = { clusterKey: Layout.clusterKey(cluster), backupId, record };
  if (isSecret(record)) return objectView({ ...base, ...secretInput(ctx, catalog, record) });
  return objectView({ ...base, ...(record.object ? { manifest: record.object } : {}) });
}

export async function diffPage(
  ctx: PageContext,
  cluster: ClusterRef,
  from: string,
  to: string,
): Promise<Page> {
  // Loaded when asked for: the cluster list and the contents never need the diff's code.
  const { diffBackups } = await import('../catalog/backup-diff.js');
  const diff = await diffBackups(
    ctx.store,
    { cluster, backupId: from },
    { cluster, backupId: to },
    ctx.sealer ? { sealer: ctx.sealer } : {},
  );
  return diffView(Layout.clusterKey(cluster), diff);
}

export const restoresPage = async (ctx: PageContext): Promise<Page> =>
  restoresView(await loadRestores(ctx.store));

export const restorePage = async (ctx: PageContext, restoreId: string): Promise<Page> =>
  restoreView(await readRestoreReport(ctx.store, restoreId));
