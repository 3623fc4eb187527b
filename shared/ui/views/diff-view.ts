import type { BackupDiff, DiffObject, FieldChange } from '../../catalog/backup-diff.js';
import { qualifiedName } from '../../kube/discovery.js';
import { html, type SafeHtml } from '../html.js';
import { headRow, page, table, type Page } from '../layout.js';
import { Links } from '../links.js';

/** Longest value shown in a cell; the rest is cut with a note (the manifest page has it whole). */
const MAX_VALUE_CHARS = 2000;

function value(v: unknown, present: boolean): SafeHtml {
  if (!present) return html`<span class="muted">—</span>`;
  const text = typeof v === 'string' ? v : JSON.stringify(v, null, 1);
  const cut = text.length > MAX_VALUE_CHARS;
  return html`<code>${cut ? text.slice(0, MAX_VALUE_CHARS) : text}</code
    >${cut ? html` <span class="muted">(cut at ${MAX_VALUE_CHARS} characters)</span>` : ''}`;
}

const label = (o: DiffObject): string =>
  `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

function objectLink(clusterKey: string, backupId: string, o: DiffObject): SafeHtml {
  const key = { resource: qualifiedName(o), namespace: o.namespace, name: o.name };
  return html`<a href="${Links.object(clusterKey, backupId, key)}">${label(o)}</a>`;
}

function fieldRows(fields: FieldChange[]): SafeHtml[] {
  return fields.map(
    (f) =>
      html`<tr>
        <th scope="row"><code data-field="path">${f.path}</code></th>
        <td>${f.op}</td>
        <td data-field="before">${value(f.before, 'before' in f)}</td>
        <td data-field="after">${value(f.after, 'after' in f)}</td>
      </tr>`,
  );
}

/** `/clusters/<key>/diff?from=&to=`: objects added, removed and changed, field by field. */
export function diffView(clusterKey: string, d: BackupDiff): Page {
  const from = d.from.backupId;
  const to = d.to.backupId;
  const simpleList = (objects: DiffObject[], backupId: string): SafeHtml =>
    objects.length === 0
      ? html`<p class="muted">None.</p>`
      : html`<ul>
          ${objects.map((o) => html`<li>${objectLink(clusterKey, backupId, o)}</li>`)}
        </ul>`;
  const changed = d.changed.map(
    (c) =>
      html`<section class="changed" data-object="${label(c.object)}">
        <h3>${objectLink(clusterKey, to, c.object)}</h3>
        ${c.sealed ? html`<p class="notice">A sealed Secret changed; start the UI with --key-file to see which keys (never their values).</p>` : ''}
        ${
          c.fields.length > 0
            ? table(
                `${c.fields.length} fields changed`,
                headRow('Field', 'Change', `Before (${from})`, `After (${to})`),
                fieldRows(c.fields),
              )
            : ''
        }
      </section>`,
  );
  const body = html`<h1>Changes from ${from} to ${to}</h1>
    <p>
      <a href="${Links.timeline(clusterKey)}">Cluster ${clusterKey}</a>:
      <a href="${Links.backup(clusterKey, from)}">${from}</a> →
      <a href="${Links.backup(clusterKey, to)}">${to}</a>
    </p>
    <p data-field="summary">
      ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed,
      ${d.unchanged} unchanged.
    </p>
    <h2>Changed (${d.changed.length})</h2>
    ${d.changed.length === 0 ? html`<p class="muted">None.</p>` : changed}
    <h2>Added (${d.added.length})</h2>
    ${simpleList(d.added, to)}
    <h2>Removed (${d.removed.length})</h2>
    ${simpleList(d.removed, from)}`;
  return page(`Changes from ${from} to ${to}`, body);
}
