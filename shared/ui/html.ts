/**
 * HTML that is already safe to send: markup built by the `html` tag, whose
 * interpolations were escaped. Only this module makes one, so a string from
 * the store can never reach a page unescaped by accident.
 */
export class SafeHtml {
  readonly #text: string;
  private constructor(text: string) {
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
  /** @internal Only the html tag and the helpers below build markup. */
  static trusted(text: string): SafeHtml {
    return new SafeHtml(text);
  }
}

/** What may be interpolated: text (escaped), numbers, markup, nothing, or a list of those. */
export type HtmlValue =
  string | number | SafeHtml | undefined | null | false | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: the literal parts are markup, every interpolation is escaped (or is SafeHtml). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return SafeHtml.trusted(out);
}

/** A URL path segment or query value, for links built from store names. */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const params = Object.entries(query).filter(
    (e): e is [string, string] => e[1] !== undefined && e[1] !== '',
  );
  if (params.length === 0) return path;
  return `${path}?${new URLSearchParams(params).toString()}`;
}

/** The path segment for a name taken from the store: encoded, so `/` or `?` cannot change the route. */
export const segment = (name: string): string => encodeURIComponent(name);
