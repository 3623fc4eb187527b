import { stringify } from 'yaml';
import type { PackRecord } from '../../catalog/pack.js';
import type { KubeObject } from '../../kube/sanitize.js';
import { html, type SafeHtml } from '../html.js';
import { headRow, page, table, type Page } from '../layout.js';
import { Links } from '../links.js';
import type { SecretSummary } from '../secret-summary.js';

export interface ObjectInput {
  clusterKey: string;
  backupId: string;
  record: PackRecord;
  /** The manifest, for anything but a Secret. */
  manifest?: KubeObject;
  /** A Secret opened with the data key: keys and sizes only. */
  secret?: SecretSummary;
  /** Why a Secret's keys cannot be listed (no key, another key). */
  sealedReason?: string;
}

function secretSection(input: ObjectInput): SafeHtml {
  if (input.sealedReason)
    return html`<p class="notice" data-field="sealed">${input.sealedReason}</p>`;
  const s = input.secret;
  if (!s) return html``;
  const rows = s.keys.map(
    (k) =>
      html`<tr>
        <th scope="row">${k.key}</th>
        <td class="num">${k.bytes}</td>
      </tr>`,
  );
  return html`<p class="muted">
      Values are never shown, only each key and its size.${s.type ? ` Type ${s.type}.` : ''}
    </p>
    ${table(`${s.keys.length} keys`, headRow('Key', { numeric: 'Bytes' }), rows)}
    <h2>Metadata</h2>
    <pre><code>${stringify({ metadata: s.metadata }, { lineWidth: 0 })}</code></pre>`;
}

/** `/clusters/<key>/backups/<id>/objects?...`: one object's manifest as YAML; a Secret's keys only. */
export function objectView(input: ObjectInput): Page {
  const { ref } = input.record;
  const where = ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
  const body = html`<h1>${ref.kind} ${where}</h1>
    <p>
      <a href="${Links.backup(input.clusterKey, input.backupId)}">Backup ${input.backupId}</a> of
      <a href="${Links.timeline(input.clusterKey)}">${input.clusterKey}</a>
    </p>
    <dl>
      <dt>API</dt>
      <dd>${ref.group ? `${ref.group}/` : ''}${ref.version}, ${ref.resource}</dd>
      ${
        ref.owner
          ? html`<dt>Owner</dt>
              <dd>${ref.owner.kind} ${ref.owner.name}</dd>`
          : ''
      }
      <dt>Digest</dt>
      <dd><code>${ref.digest}</code></dd>
    </dl>
    ${
      input.manifest
        ? html`<h2>Manifest</h2>
            <pre><code data-field="manifest">${stringify(input.manifest, { lineWidth: 0 })}</code></pre>`
        : secretSection(input)
    }`;
  return page(`${ref.kind} ${where}`, body);
}
