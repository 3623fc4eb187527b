import type { Catalog, VolumeEntry } from '../../catalog/catalog-schema.js';
import { formatBytes } from '../../format-bytes.js';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { headRow, page, table, type Page } from '../layout.js';
import { Links } from '../links.js';
import { objectKeyOf, type ContentsEntry } from '../load-contents.js';
import { isEmptyQuery, matchesQuery, type SearchQuery } from '../search-query.js';

/** More rows than this and the page lists the first ones and asks for a narrower search. */
export const MAX_OBJECT_ROWS = 1000;

const CLUSTER_SCOPED = '(cluster-scoped)';

/** Code-point order: names are ASCII, and a locale-aware compare costs seconds at 100,000 objects. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface ContentsInput {
  clusterKey: string;
  catalog: Catalog;
  /** The objects, still being read: listed after the summary. */
  entries: Promise<ContentsEntry[]>;
  query: SearchQuery;
  q: string;
  authenticity: string;
}

function volumeRows(volumes: VolumeEntry[]): SafeHtml[] {
  return volumes.map(
    (v) =>
      html`<tr>
        <th scope="row">${v.pvName}</th>
        <td>${v.pvcNamespace && v.pvcName ? `${v.pvcNamespace}/${v.pvcName}` : ''}</td>
        <td class="${v.status === 'FAILED' ? 'bad' : ''}">
          ${v.status}${v.reason ? html`<div class="muted">${v.reason}</div>` : ''}
        </td>
        <td>${v.snapshot?.name ?? v.csiSnapshot?.name ?? ''}</td>
        <td>${v.capacity ?? (v.disk?.sizeGb !== undefined ? `${v.disk.sizeGb} GiB` : '')}</td>
        <td>${v.disk?.zone ?? v.disk?.replicaZones?.join(', ') ?? v.disk?.region ?? ''}</td>
      </tr>`,
  );
}

/** `/clusters/<key>/backups/<id>`: the summary at once; then namespaces, kinds, objects; volumes. */
export function contentsView(input: ContentsInput): Page {
  const { catalog: c, clusterKey } = input;
  const list = (items: string[], cls: string): SafeHtml =>
    html`<ul class="${cls}">
      ${items.map((w) => html`<li>${w}</li>`)}
    </ul>`;
  const summary = html`<h1>Backup ${c.backupId}</h1>
    <p><a href="${Links.timeline(clusterKey)}">Cluster ${clusterKey}</a></p>
    <dl>
      <dt>Phase</dt>
      <dd><span class="phase-${c.phase}">${c.phase}</span></dd>
      <dt>Taken</dt>
      <dd>${formatTime(c.startedAt)} to ${formatTime(c.completedAt)}</dd>
      <dt>Policy</dt>
      <dd>${c.policy.name} (TTL ${c.policy.ttlDays} days)</dd>
      <dt>Objects</dt>
      <dd data-field="objects">
        ${c.counts.objects} in ${c.counts.packs} packs (${formatBytes(c.counts.packBytes)})
      </dd>
      <dt>Kubernetes</dt>
      <dd>${c.kubernetesVersion}</dd>
      <dt>Catalog</dt>
      <dd>${input.authenticity}</dd>
    </dl>
    ${
      c.errors.length > 0
        ? html`<h2>Errors</h2>
            ${list(c.errors, 'bad')}`
        : ''
    }
    ${
      c.warnings.length > 0
        ? html`<h2>Warnings</h2>
            ${list(c.warnings, 'warn')}`
        : ''
    }
    <h2>Volumes</h2>
    ${
      c.volumes.length === 0
        ? html`<p class="muted">No volumes.</p>`
        : table(
            `${c.volumes.length} volumes`,
            headRow('PV', 'PVC', 'Status', 'Snapshot', 'Size', 'Zone'),
            volumeRows(c.volumes),
          )
    }`;
  return {
    ...page(`Backup ${c.backupId}`, summary),
    rest: input.entries.then((entries) => objectsSection(input, entries)),
  };
}

/** The objects, found by the search, counted by namespace and kind, the first ones listed; then the volumes. */
function objectsSection(input: ContentsInput, entries: ContentsEntry[]): SafeHtml {
  const { catalog: c, clusterKey } = input;
  // Bodies are parsed for their labels only when the query names a label.
  const byLabel = input.query.labels.length > 0;
  const matched = entries
    .filter((e) =>
      matchesQuery(input.query, { name: e.ref.name, labels: byLabel ? e.labels() : undefined }),
    )
    .sort(
      (a, b) =>
        compare(a.ref.namespace ?? '', b.ref.namespace ?? '') ||
        compare(a.ref.kind, b.ref.kind) ||
        compare(a.ref.name, b.ref.name),
    );
  const counts = new Map<string, Map<string, number>>();
  for (const r of matched) {
    const ns = r.ref.namespace ?? CLUSTER_SCOPED;
    const kinds = counts.get(ns) ?? new Map<string, number>();
    kinds.set(r.ref.kind, (kinds.get(r.ref.kind) ?? 0) + 1);
    counts.set(ns, kinds);
  }
  const countRows = [...counts].map(([ns, kinds]) => {
    const total = [...kinds.values()].reduce((a, b) => a + b, 0);
    return html`<tr data-namespace="${ns}">
      <th scope="row">${ns}</th>
      <td class="num">${total}</td>
      <td>
        ${[...kinds].map(([k, n], i) => html`${i > 0 ? ', ' : ''}${k} <span class="muted">${n}</span>`)}
      </td>
    </tr>`;
  });
  const shown = matched.slice(0, MAX_OBJECT_ROWS);
  const objectRows = shown.map((r) => {
    const labels = Object.entries((r.sealed ? undefined : r.labels()) ?? {}).map(
      ([k, v]) => `${k}=${v}`,
    );
    return html`<tr>
      <td>${r.ref.namespace ?? html`<span class="muted">—</span>`}</td>
      <td>${r.ref.kind}</td>
      <th scope="row">
        <a href="${Links.object(clusterKey, c.backupId, objectKeyOf(r.ref))}">${r.ref.name}</a>
      </th>
      <td class="muted">${r.sealed ? 'sealed' : labels.join(', ')}</td>
    </tr>`;
  });
  const filtered = !isEmptyQuery(input.query);
  return html`<h2 id="objects">Objects</h2>
    <form method="get" action="${Links.backup(clusterKey, c.backupId)}" role="search">
      <label
        >Search by name or label (app=web)<input
          type="search"
          name="q"
          value="${input.q}"
          autocomplete="off"
      /></label>
      <button type="submit">Search</button
      >${filtered ? html` <a href="${Links.backup(clusterKey, c.backupId)}">Clear</a>` : ''}
    </form>
    <p data-field="matched">
      ${filtered ? `${matched.length} of ${entries.length} objects match` : `${matched.length} objects`}${matched.length > shown.length ? `; the first ${shown.length} are listed: narrow the search to see the others` : ''}
    </p>
    ${table(
      'Objects per namespace and kind',
      headRow('Namespace', { numeric: 'Objects' }, 'Kinds'),
      countRows,
    )}
    ${
      shown.length > 0
        ? table('Objects', headRow('Namespace', 'Kind', 'Name', 'Labels'), objectRows)
        : ''
    }`;
}
