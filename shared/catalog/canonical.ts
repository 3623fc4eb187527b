import { hash } from 'node:crypto';

function write(value: unknown, out: string[]): void {
  if (value === null || typeof value !== 'object') {
    out.push(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((v, i) => {
      if (i > 0) out.push(',');
      write(v === undefined ? null : v, out);
    });
    out.push(']');
    return;
  }
  out.push('{');
  let first = true;
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(key), ':');
    write(v, out);
  }
  out.push('}');
}

/**
 * JSON with object keys sorted at every level: equal objects give equal
 * bytes, so digests identify content. Same output as JSON.stringify with
 * sorted keys; written by hand because the export spends its time here.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

export function sha256(data: Buffer | string): string {
  // One-shot hashing: far cheaper than createHash() for the export's many small objects.
  return hash('sha256', data, 'hex');
}
