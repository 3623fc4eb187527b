import { html } from '../html.js';
import { page, type Page } from '../layout.js';
import { Links } from '../links.js';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  404: 'Not found',
  405: 'Method not allowed',
  500: 'The store could not be read',
};

/** An error page: what went wrong in one sentence, never a stack. */
export function errorView(status: number, message: string): Page {
  const title = TITLES[status] ?? 'Error';
  return page(
    title,
    html`<h1>${title}</h1>
      <p data-field="error">${message}</p>
      <p><a href="${Links.clusters()}">Back to the clusters</a></p>`,
    status,
  );
}
