import { formatDuration, formatTime } from '../format.js';
import { html } from '../html.js';
import { headRow, page, table, type Page } from '../layout.js';
import { Links } from '../links.js';
import type { ClusterSummary } from '../load-clusters.js';

/** `/`: every cluster in the store, its last backup and the RPO it has now. */
export function clustersView(summaries: ClusterSummary[], now: Date, storeUrl: string): Page {
  const rows = summaries.map((s) => {
    const n = s.newest;
    const age = n ? formatDuration(now.getTime() - Date.parse(n.completedAt)) : undefined;
    return html`<tr class="${s.rpo.overdue ? 'overdue' : ''}" data-cluster="${s.clusterKey}">
      <th scope="row">
        <a href="${Links.timeline(s.clusterKey)}">${s.clusterKey}</a
        >${s.deleted ? html` <span class="badge bad">cluster deleted</span>` : ''}
      </th>
      <td class="num" data-field="backups">${s.backups}</td>
      <td>
        ${n ? html`<a href="${Links.backup(s.clusterKey, n.backupId)}">${n.backupId}</a>` : html`<span class="muted">none readable</span>`}
      </td>
      <td data-field="phase">${n ? html`<span class="phase-${n.phase}">${n.phase}</span>` : ''}</td>
      <td class="num" data-field="objects">${n?.counts.objects}</td>
      <td data-field="age">
        ${age ? html`<time datetime="${n?.completedAt}" title="${formatTime(n?.completedAt ?? '')}">${age} ago</time>` : ''}
      </td>
      <td data-field="rpo">
        ${s.rpo.rpoMs !== undefined ? formatDuration(s.rpo.rpoMs) : html`<span class="muted">none</span>`}${s.rpo.overdue ? html` <span class="badge bad">overdue</span>` : ''}
        <div class="muted">
          ${s.rpo.reason}${s.rpo.allowedMs !== undefined ? ` (allowed ${formatDuration(s.rpo.allowedMs)})` : ''}
        </div>
      </td>
      <td>
        ${s.unreadable.length > 0 ? html`<span class="warn">${s.unreadable.length} unreadable</span>` : ''}
      </td>
    </tr>`;
  });
  const head = headRow(
    'Cluster',
    { numeric: 'Backups' },
    'Last backup',
    'Phase',
    { numeric: 'Objects' },
    'Age',
    'RPO',
    'Problems',
  );
  const body = html`<h1>Clusters</h1>
    <p class="muted">
      Store <code>${storeUrl}</code>, read-only. RPO is the time since the data of the last
      Completed backup was taken.
    </p>
    ${summaries.length === 0 ? html`<p>No backups in this store yet.</p>` : table(`${summaries.length} clusters`, head, rows)}`;
  return page('Clusters', body);
}
