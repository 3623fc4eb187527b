import type { RestoreReport } from '../../restore/report.js';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { headRow, page, table, type Page } from '../layout.js';
import { Links } from '../links.js';
import type { RestoreListing } from '../load-restores.js';
import { Layout } from '../../catalog/layout.js';

const countsText = (r: RestoreReport): string =>
  Object.entries(r.counts)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ') || 'nothing';

/** `/restores`: every restore in the store, newest first. */
export function restoresView(listings: RestoreListing[]): Page {
  const rows = listings.map((l) => {
    const id = html`<th scope="row">
      <a href="${Links.restore(l.restoreId)}">${l.restoreId}</a>
    </th>`;
    if ('inProgress' in l)
      return html`<tr>
        ${id}
        <td colspan="5" class="muted">running: no report yet</td>
      </tr>`;
    if ('error' in l)
      return html`<tr>
        ${id}
        <td colspan="5" class="bad">${l.error}</td>
      </tr>`;
    const r = l.report;
    return html`<tr data-restore="${r.restoreId}">
      ${id}
      <td>
        <span class="phase-${r.phase}">${r.phase}</span
        >${r.dryRun ? html` <span class="badge">dry run</span>` : ''}
      </td>
      <td>
        <a href="${Links.backup(Layout.clusterKey(r.source), r.backupId)}">${r.backupId}</a>
        <div class="muted">${Layout.clusterKey(r.source)}</div>
      </td>
      <td>${Layout.clusterKey(r.target)}</td>
      <td>${formatTime(r.startedAt)}</td>
      <td data-field="counts">${countsText(r)}</td>
    </tr>`;
  });
  const head = headRow('Restore', 'Phase', 'Backup', 'Target', 'Started', 'Objects');
  const body = html`<h1>Restores</h1>
    ${listings.length === 0 ? html`<p>No restores in this store.</p>` : table(`${listings.length} restores, newest first`, head, rows)}`;
  return page('Restores', body);
}

/** `/restores/<id>`: the report; failed and skipped objects with their reasons. */
export function restoreView(r: RestoreReport): Page {
  const notable = r.outcomes.filter(
    (o) => o.outcome === 'failed' || o.outcome === 'skipped' || o.outcome === 'would-conflict',
  );
  const rows = notable.map(
    (o) =>
      html`<tr>
        <td class="outcome-${o.outcome}">${o.outcome}</td>
        <td>${o.kind}</td>
        <th scope="row">${o.namespace ? `${o.namespace}/` : ''}${o.name}</th>
        <td>${o.reason ?? ''}</td>
      </tr>`,
  );
  const volumes = r.volumes.map(
    (v) =>
      html`<tr>
        <th scope="row">${v.pvName}</th>
        <td>${v.outcome}</td>
        <td>${v.disk ?? ''}</td>
        <td>${v.reason ?? ''}</td>
      </tr>`,
  );
  const errors: SafeHtml =
    r.errors.length > 0
      ? html`<h2>Errors</h2>
          <ul class="bad">
            ${r.errors.map((e) => html`<li>${e}</li>`)}
          </ul>`
      : html``;
  const body = html`<h1>Restore ${r.restoreId}</h1>
    <dl>
      <dt>Phase</dt>
      <dd><span class="phase-${r.phase}">${r.phase}</span>${r.dryRun ? ' (dry run)' : ''}</dd>
      <dt>Backup</dt>
      <dd>
        <a href="${Links.backup(Layout.clusterKey(r.source), r.backupId)}">${r.backupId}</a> of
        ${Layout.clusterKey(r.source)}
      </dd>
      <dt>Target</dt>
      <dd>${Layout.clusterKey(r.target)}</dd>
      <dt>Ran</dt>
      <dd>${formatTime(r.startedAt)} to ${formatTime(r.completedAt)}</dd>
      <dt>Objects</dt>
      <dd data-field="counts">${countsText(r)}</dd>
    </dl>
    ${errors}
    <h2>Failed and skipped objects (${notable.length})</h2>
    ${
      notable.length === 0
        ? html`<p class="muted">None.</p>`
        : table(
            'Objects not restored, with why',
            headRow('Outcome', 'Kind', 'Object', 'Reason'),
            rows,
          )
    }
    ${
      r.volumes.length > 0
        ? html`<h2>Volumes</h2>
            ${table(
              `${r.volumes.length} volumes`,
              headRow('PV', 'Outcome', 'Disk', 'Reason'),
              volumes,
            )}`
        : ''
    }`;
  return page(`Restore ${r.restoreId}`, body);
}
