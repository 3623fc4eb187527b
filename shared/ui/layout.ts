import { CSS } from './css.js';
import { html, type HtmlValue, SafeHtml } from './html.js';

/**
 * A rendered page: the status to send and the document. A page may hold a
 * `rest` still being read: what is ready is sent and painted at once, and
 * the rest follows in the same response when it is (a backup's summary
 * before the objects of its packs).
 */
export interface Page {
  status: number;
  title: string;
  body: SafeHtml;
  rest?: Promise<SafeHtml>;
}

/** A page with status 200 unless told otherwise. */
export const page = (title: string, body: SafeHtml, status = 200): Page => ({
  status,
  title,
  body,
});

const NAV = html`<header>
  <nav aria-label="Main">
    <a class="brand" href="/">Lifeboat</a><a href="/">Clusters</a><a href="/restores">Restores</a>
  </nav>
</header>`;

/** The document up to the page's body inclusive, its `<main>` left open for the rest. */
export function documentStart(p: Page): string {
  const head = html`<head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="robots" content="noindex" />
    <title>${p.title} · Lifeboat</title>
    <style>
      ${SafeHtml.trusted(CSS)}
    </style>
  </head>`;
  return `<!doctype html><html lang="en">${head.toString()}<body>${NAV.toString()}<main>${p.body.toString()}`;
}

/** Closes what documentStart left open. */
export const DOCUMENT_END = '</main></body></html>';

/** The whole document of a page without a rest: one stylesheet inline, the nav, and the page's `<main>`. */
export const documentOf = (p: Page): string => documentStart(p) + DOCUMENT_END;

/** A table inside a box that scrolls on its own, so a phone never scrolls the page sideways. */
export function table(caption: string, head: SafeHtml, rows: HtmlValue): SafeHtml {
  return html`<div class="table-wrap">
    <table>
      <caption class="muted">
        ${caption}
      </caption>
      <thead>
        ${head}
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;
}

/** A column whose header (like its cells) is right-aligned: counts and sizes. */
export interface NumericColumn {
  numeric: string;
}

/** The header row of a table: one `<th scope="col">` a column. */
export function headRow(...columns: (string | NumericColumn)[]): SafeHtml {
  return html`<tr>
    ${columns.map((c) =>
      typeof c === 'string'
        ? html`<th scope="col">${c}</th>`
        : html`<th scope="col" class="num">${c.numeric}</th>`,
    )}
  </tr>`;
}
