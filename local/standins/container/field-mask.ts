import { createRequire } from 'node:module';
import { ApiFailure, isJsonObject, type JsonObject } from '../google-json.js';

/**
 * Partial responses, as every Google API serves them for the `fields` query
 * parameter or the `X-Goog-FieldMask` header: a comma-separated list of
 * dotted field paths (JSON names); `*` means everything. A path naming no
 * field of the response message is a 400, as on the real API. Paths are
 * checked against google.container.v1 as the client library ships it.
 * (The parenthesised form `a(b,c)` is not served: Lifeboat does not send it.)
 */
export class FieldMask {
  private constructor(
    readonly text: string,
    private readonly tree: MaskTree,
  ) {}

  /** The mask of a request, or undefined when it asks for everything. */
  static parse(text: string | undefined, responseType: string): FieldMask | undefined {
    if (text === undefined || text.trim() === '' || text.trim() === '*') return undefined;
    const tree: MaskTree = new Map();
    for (const raw of text.split(',')) {
      const path = raw.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(path)) {
        throw new ApiFailure(
          400,
          `Invalid FieldMask '${text}'. Unsupported path syntax: '${path}'.`,
        );
      }
      checkPath(responseType, path, text);
      let node = tree;
      const segments = path.split('.');
      segments.forEach((segment, i) => {
        const existing = node.get(segment);
        if (existing === 'all') return;
        if (i === segments.length - 1) {
          node.set(segment, 'all');
          return;
        }
        const next: MaskTree = existing ?? new Map();
        node.set(segment, next);
        node = next;
      });
    }
    return new FieldMask(text, tree);
  }

  apply(value: JsonObject): JsonObject {
    return prune(value, this.tree);
  }

  /** Whether the mask asks for `field` at all. */
  has(field: string): boolean {
    return this.tree.has(field);
  }

  /** The mask below `field` (`clusters` of a list), undefined when the whole of it is asked for. */
  below(field: string): FieldMask | undefined {
    const sub = this.tree.get(field);
    return sub === undefined || sub === 'all'
      ? undefined
      : new FieldMask(`${this.text} @ ${field}`, sub);
  }
}

type MaskTree = Map<string, MaskTree | 'all'>;

function prune(value: JsonObject, tree: MaskTree): JsonObject {
  const out: JsonObject = {};
  for (const [key, sub] of tree) {
    const v = value[key];
    if (v === undefined) continue;
    if (sub === 'all') out[key] = v;
    else if (Array.isArray(v))
      out[key] = v.map((item) => (isJsonObject(item) ? prune(item, sub) : item));
    else if (isJsonObject(v)) out[key] = prune(v, sub);
  }
  return out;
}

interface ProtoType {
  fields?: Record<string, { type: string; keyType?: string }>;
  nested?: Record<string, ProtoType>;
}

const require = createRequire(import.meta.url);
const protos = require('@google-cloud/container/build/protos/protos.json') as {
  nested: { google: { nested: { container: { nested: { v1: ProtoType } } } } };
};
const v1 = protos.nested.google.nested.container.nested.v1;

/** A message type by name, looked up from inside `scope` outwards, as protobuf resolves names. */
function resolve(name: string, scopes: ProtoType[]): ProtoType | undefined {
  for (const scope of [...scopes].reverse()) {
    let found: ProtoType | undefined = scope;
    for (const part of name.split('.')) found = found?.nested?.[part];
    if (found?.fields) return found;
  }
  return undefined;
}

function checkPath(responseType: string, path: string, mask: string): void {
  const root = v1.nested?.[responseType];
  if (!root) throw new Error(`stand-in: unknown message ${responseType}`);
  const invalid = (segment: string): ApiFailure =>
    new ApiFailure(400, `Invalid FieldMask '${mask}': '${segment}' in '${path}' is not a field.`);
  let scopes: ProtoType[] = [v1, root];
  const segments = path.split('.');
  for (const [i, segment] of segments.entries()) {
    const field = scopes[scopes.length - 1]?.fields?.[segment];
    if (!field) throw invalid(segment);
    if (field.keyType !== undefined) return; // a map: below it are keys, not fields
    const type = resolve(field.type, scopes);
    if (!type) {
      // A scalar or an enum: a path cannot go on below it.
      const next = segments[i + 1];
      if (next !== undefined) throw invalid(next);
      return;
    }
    scopes = [...scopes, type];
  }
}
