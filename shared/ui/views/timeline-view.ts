import { formatBytes } from '../../format-bytes.js';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { headRow, page, table, type Page } from '../layout.js';
import { Links } from '../links.js';
import type { Timeline, TimelineEntry } from '../load-timeline.js';

const DAY = 86_400_000;

/** When the backup expires, or why it stays, as retention decides it now. */
function expiryCell(entry: TimelineEntry): SafeHtml {
  const d = entry.expiry;
  if (!d) return html``;
  if (d.expire)
    return html`<span class="warn">due at next sweep</span>
      <div class="muted">${d.reason}</div>`;
  const ttlEnd = new Date(
    Date.parse(entry.catalog.completedAt) + entry.catalog.policy.ttlDays * DAY,
  );
  const byTtl = d.reason.startsWith('within its') || d.reason.startsWith('delete-lock');
  return html`${byTtl ? html`<time datetime="${ttlEnd.toISOString()}">${formatTime(ttlEnd.toISOString())}</time>` : 'kept'}
    <div class="muted">${d.reason}</div>`;
}

function drillCell(entry: TimelineEntry): SafeHtml {
  const d = entry.drill;
  if (!d) return html`<span class="muted">none</span>`;
  if ('error' in d) return html`<span class="warn" title="${d.error}">unreadable</span>`;
  return html`<span class="verdict-${d.verdict}">${d.verdict}</span
    >${d.rtoSeconds !== undefined ? html` <span class="muted">RTO ${Math.round(d.rtoSeconds)}s</span>` : ''}`;
}

function diffForm(t: Timeline): SafeHtml {
  const ids = t.entries.map((e) => e.catalog.backupId);
  if (ids.length < 2) return html``;
  const options = (selected: string | undefined): SafeHtml[] =>
    ids.map(
      (id) => html`<option value="${id}" ${id === selected ? html` selected` : ''}>${id}</option>`,
    );
  return html`<h2>Compare two backups</h2>
    <form method="get" action="${Links.diff(t.clusterKey, '', '')}">
      <label
        >From (older)<select name="from">
          ${options(ids[1])}
        </select></label
      >
      <label
        >To (newer)<select name="to">
          ${options(ids[0])}
        </select></label
      >
      <button type="submit">Show what changed</button>
    </form>`;
}

/** `/clusters/<key>`: every backup of the cluster, newest first. */
export function timelineView(t: Timeline): Page {
  const rows = t.entries.map((e) => {
    const c = e.catalog;
    return html`<tr data-backup="${c.backupId}">
      <th scope="row">
        <a href="${Links.backup(t.clusterKey, c.backupId)}">${c.backupId}</a>
        <div class="muted">policy ${c.policy.name}</div>
      </th>
      <td><time datetime="${c.startedAt}">${formatTime(c.startedAt)}</time></td>
      <td data-field="phase"><span class="phase-${c.phase}">${c.phase}</span></td>
      <td class="num" data-field="objects">${c.counts.objects}</td>
      <td class="num" data-field="volumes">${c.counts.volumes}</td>
      <td class="num" data-field="bytes" title="${c.counts.packBytes} bytes">
        ${formatBytes(c.counts.packBytes)}
      </td>
      <td class="num" data-field="warnings">
        ${c.warnings.length}${c.errors.length > 0 ? html` <span class="bad">+${c.errors.length} errors</span>` : ''}
      </td>
      <td data-field="lock">${e.locked ? html`<span class="badge">locked</span>` : ''}</td>
      <td data-field="expiry">${expiryCell(e)}</td>
      <td data-field="drill">${drillCell(e)}</td>
    </tr>`;
  });
  const head = headRow(
    'Backup',
    'Started',
    'Phase',
    { numeric: 'Objects' },
    { numeric: 'Volumes' },
    { numeric: 'Bytes' },
    { numeric: 'Warnings' },
    'Lock',
    'Expiry',
    'Drill',
  );
  const unreadable = t.unreadable.map(
    (u) => html`<li><strong>${u.backupId}</strong>: ${u.reason}</li>`,
  );
  const body = html`<h1>Cluster ${t.clusterKey}</h1>
    ${t.deleted ? html`<p class="notice">This cluster was seen deleted; its backups are kept.</p>` : ''}
    ${t.entries.length === 0 && t.unreadable.length === 0 ? html`<p>No backups of this cluster in the store.</p>` : table(`${t.entries.length} backups, newest first`, head, rows)}
    ${
      unreadable.length > 0
        ? html`<h2>Unreadable catalogs</h2>
            <ul>
              ${unreadable}
            </ul>`
        : ''
    }
    ${diffForm(t)}`;
  return page(`Cluster ${t.clusterKey}`, body);
}
