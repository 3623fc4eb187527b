import type { OutputFormat } from './options.js';

/** Data goes to stdout; progress and errors to stderr. */
export function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  write(JSON.stringify(value, null, 2));
}

type Cell = string | number | boolean | undefined;

/** Columns padded to their widest cell, Velero/kubectl style; `<none>` for an empty table. */
export function formatTable(headers: string[], rows: Cell[][]): string {
  if (rows.length === 0) return '<none>';
  const text = rows.map((r) => headers.map((_, i) => cellText(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...text.map(line)].join('\n');
}

export function printTable(headers: string[], rows: Cell[][]): void {
  write(formatTable(headers, rows));
}

/** `Key:   value` lines, aligned; undefined values are left out. */
export function formatFields(fields: [string, Cell][]): string {
  const shown = fields.filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${cellText(v)}`).join('\n');
}

/** A titled block for describe-style output; `<none>` when there is nothing in it. */
export function section(title: string, body: string | string[]): string {
  const lines = typeof body === 'string' ? body.split('\n') : body;
  const content =
    lines.length === 0 || (lines.length === 1 && lines[0] === '') ? ['<none>'] : lines;
  return `\n\n${title}:\n${content.map((l) => `  ${l}`).join('\n')}`;
}

function cellText(value: Cell): string {
  if (value === undefined || value === '') return '-';
  return String(value);
}

export function formatDuration(fromIso: string, toIso: string): string {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Prints `value` as JSON, or calls `table` to print it for people. */
export function emit(format: OutputFormat, value: unknown, table: () => string): void {
  if (format === 'json') printJson(value);
  else write(table());
}
