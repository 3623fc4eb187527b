import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run, tofuEnv, type InfraTools } from './tools.js';

/**
 * What a Terraform configuration declares, resolved the way Terraform would
 * resolve it before anything exists: every resource's for_each or count
 * expanded into its instances, and every argument of every instance
 * evaluated by OpenTofu itself (`tofu console`, offline, no providers).
 *
 * What only exists after apply (another resource's attributes) cannot be
 * evaluated, so each reference to a resource is replaced by a marker string
 * before evaluation: `google_pubsub_topic.topic[each.value.trigger].id`
 * evaluates to "@ref:google_pubsub_topic.topic[backup-jobs].id". A checker
 * then follows the markers from one instance to another: that is how it
 * proves, say, that a function's trigger subscription is on the right topic.
 */
export interface InfraModel {
  dir: string;
  /** Evaluated input variables. */
  vars: Record<string, unknown>;
  instances: Instance[];
}

export interface Instance {
  type: string;
  name: string;
  /** The for_each key, or the count index as a string; null without either. */
  key: string | null;
  /** `type.name` or `type.name[key]`, as a marker writes it. */
  address: string;
  /** file:line of the resource block. */
  where: string;
  /**
   * Evaluated arguments; nested blocks are lists of objects, a dynamic
   * block's instances after the static blocks of the same name.
   */
  attrs: Record<string, unknown>;
}

/** A resource reference found in an evaluated value. */
export interface Ref {
  /** `type.name` (or `data.type.name`). */
  resource: string;
  key: string | null;
  /** The attribute path after the instance, e.g. ".email" or ".service_config[0].uri". */
  path: string;
  /** `type.name` or `type.name[key]`: the Instance.address it points at. */
  address: string;
}

type Body = Record<string, unknown>;
interface Range {
  line: number;
  start: number;
  end: number;
}
interface Block {
  mode: 'resource' | 'data';
  type: string;
  name: string;
  file: string;
  range: Range;
  body: Body;
}

/** Arguments that are not the resource's own: evaluated separately or not at all. */
const META = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle']);
const SKIPPED_BLOCKS = new Set(['lifecycle', 'provisioner', 'connection', 'timeouts']);

export interface LoadOptions {
  /** Values of input variables (written as a .auto.tfvars.json). */
  vars?: Record<string, unknown>;
  /** .tfvars files to load as well, after `vars`. */
  varFiles?: string[];
  /**
   * What path.module means. By default the directory itself; a copy of
   * infra/ elsewhere passes the real infra/ so that paths relative to the
   * repository still resolve.
   */
  pathModule?: string;
}

/** Parses every .tf file of `dir` (one module, no subdirectories) and evaluates it. */
export function loadInfra(dir: string, tools: InfraTools, options: LoadOptions = {}): InfraModel {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.tf') && statSync(join(dir, f)).isFile())
    .sort();
  if (files.length === 0) throw new Error(`No .tf files in ${dir}`);
  const parsed = parseHcl(dir, files, tools);

  const variables: string[] = [];
  const locals: [string, string][] = [];
  const blocks: Block[] = [];
  for (const file of files) {
    const body = parsed[file] ?? {};
    const text = readFileSync(join(dir, file), 'utf8');
    for (const [kind, value] of Object.entries(body)) {
      if (kind === '@range') continue;
      if (kind === 'variable') {
        for (const list of Object.values(value as Record<string, Body[]>)) {
          for (const b of list) variables.push(sliceBlock(text, b));
        }
      } else if (kind === 'locals') {
        for (const b of value as Body[]) {
          for (const [name, expr] of Object.entries(b)) {
            if (name !== '@range') locals.push([name, exprSource(expr)]);
          }
        }
      } else if (kind === 'resource' || kind === 'data') {
        for (const [type, byName] of Object.entries(
          value as Record<string, Record<string, Body[]>>,
        )) {
          for (const [name, list] of Object.entries(byName)) {
            for (const b of list) {
              blocks.push({ mode: kind, type, name, file, range: rangeOf(b), body: b });
            }
          }
        }
      } else if (kind === 'module') {
        throw new Error(`${file}: module blocks are not supported by this checker`);
      }
    }
  }

  const known = new Set(
    blocks.map((b) => (b.mode === 'data' ? `data.${b.type}.${b.name}` : `${b.type}.${b.name}`)),
  );
  const pathModule = JSON.stringify(resolve(options.pathModule ?? dir));
  const prepare = (src: string): string =>
    substituteRefs(src.replace(/\bpath\.(module|root)\b/g, pathModule), known);

  const managed = blocks.filter((b) => b.mode === 'resource');
  const evalEntries = managed.map((b, i) => {
    const each = b.body['for_each'];
    const count = b.body['count'];
    const object = bodyObject(b.body, prepare);
    const label = `# ${b.type}.${b.name} (${b.file}:${b.range.line})`;
    if (each !== undefined) {
      const expr = prepare(exprSource(each));
      return `${label}\nr${i} = { for lifeboat_k, lifeboat_v in (\n${expr}\n) : lifeboat_k => ${object
        .replace(/\beach\.key\b/g, 'lifeboat_k')
        .replace(/\beach\.value\b/g, 'lifeboat_v')} }`;
    }
    if (count !== undefined) {
      const expr = prepare(exprSource(count));
      return `${label}\nr${i} = { for lifeboat_i in range(\n${expr}\n) : tostring(lifeboat_i) => ${object.replace(
        /\bcount\.index\b/g,
        'lifeboat_i',
      )} }`;
    }
    return `${label}\nr${i} = { "" = ${object} }`;
  });

  const varNames = variables.map((v) => /^variable\s+"([^"]+)"/.exec(v)?.[1] ?? '');
  const source = [
    ...variables,
    'locals {',
    ...locals.map(([name, expr]) => `${name} = (\n${prepare(expr)}\n)`),
    'lifeboat_eval = {',
    `vars = { ${varNames.map((n) => `"${n}" = var.${n}`).join(', ')} }`,
    ...evalEntries,
    '}',
    '}',
    '',
  ].join('\n');

  const result = evaluate(source, 'base64encode(jsonencode(local.lifeboat_eval))', tools, options);
  const evaluated = result as { vars: Record<string, unknown> } & Record<
    string,
    Record<string, Body>
  >;
  const instances: Instance[] = [];
  managed.forEach((b, i) => {
    for (const [key, attrs] of Object.entries(evaluated[`r${i}`] ?? {})) {
      const isSingle = b.body['for_each'] === undefined && b.body['count'] === undefined;
      instances.push({
        type: b.type,
        name: b.name,
        key: isSingle ? null : key,
        address: isSingle ? `${b.type}.${b.name}` : `${b.type}.${b.name}[${key}]`,
        where: `${b.file}:${b.range.line}`,
        attrs,
      });
    }
  });
  return { dir, vars: evaluated.vars, instances };
}

function parseHcl(dir: string, files: string[], tools: InfraTools): Record<string, Body> {
  const out = run(tools.hcl2json, files, { cwd: dir });
  if (out.status !== 0) throw new Error(`hcl2json failed on ${dir}:\n${out.stderr}`);
  return (JSON.parse(out.stdout) as { files: Record<string, Body> }).files;
}

/** Runs `expression` in `tofu console` over a configuration made of `source`. */
function evaluate(
  source: string,
  expression: string,
  tools: InfraTools,
  options: LoadOptions,
): unknown {
  const work = mkdtempSync(join(tmpdir(), 'lifeboat-infra-eval-'));
  try {
    writeFileSync(join(work, 'eval.tf'), source);
    // Auto-loaded in lexical order, later files winning: vars first.
    writeFileSync(join(work, 'a.auto.tfvars.json'), JSON.stringify(options.vars ?? {}));
    (options.varFiles ?? []).forEach((file, i) => {
      copyFileSync(file, join(work, `b${i}.auto.tfvars`));
    });
    const out = run(tools.tofu, ['console'], {
      cwd: work,
      env: tofuEnv(join(work, '.tofu')),
      input: `${expression}\n`,
    });
    if (out.status !== 0) {
      const numbered = source
        .split('\n')
        .map((line, i) => `${String(i + 1).padStart(4)} ${line}`)
        .join('\n');
      throw new Error(
        `tofu console could not evaluate infra/:\n${out.stderr}\n--- eval.tf ---\n${numbered}`,
      );
    }
    // The value is the last line; anything before it would be a warning.
    // Anything else than a string (say "(known after apply)", when a
    // variable fails its validation) means the configuration is not right.
    const last = out.stdout.trim().split('\n').pop() ?? '';
    if (!/^"[A-Za-z0-9+/=]*"$/.test(last)) {
      throw new Error(`tofu console could not evaluate infra/: it printed ${last}\n${out.stderr}`);
    }
    const encoded = JSON.parse(last) as string;
    return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let dynamicCount = 0;

/**
 * HCL source of a block body as an object constructor, nested blocks as
 * lists of objects. A dynamic block becomes a for expression over its
 * for_each, its iterator's key and value renamed to the for's variables.
 */
function bodyObject(body: Body, prepare: (src: string) => string): string {
  const entries: string[] = [];
  const blocks = new Map<string, string[]>();
  const dynamics = new Map<string, string[]>();
  for (const [name, value] of Object.entries(body)) {
    if (name === '@range' || META.has(name) || SKIPPED_BLOCKS.has(name)) continue;
    if (name === 'dynamic') {
      for (const [label, list] of Object.entries(value as Record<string, Body[]>)) {
        for (const d of list) {
          const iterator = d['iterator'] === undefined ? label : exprSource(d['iterator']);
          const content = (d['content'] as Body[] | undefined)?.[0] ?? {};
          const n = dynamicCount++;
          const object = bodyObject(content, prepare)
            .replace(new RegExp(`\\b${iterator}\\.key\\b`, 'g'), `lifeboat_dk${n}`)
            .replace(new RegExp(`\\b${iterator}\\.value\\b`, 'g'), `lifeboat_dv${n}`);
          const forEach = prepare(exprSource(d['for_each']));
          dynamics.set(label, [
            ...(dynamics.get(label) ?? []),
            `[for lifeboat_dk${n}, lifeboat_dv${n} in (\n${forEach}\n) : ${object}]`,
          ]);
        }
      }
    } else if (isBlockList(value)) {
      blocks.set(
        name,
        value.map((b) => bodyObject(b, prepare)),
      );
    } else {
      entries.push(
        `"${name}" = (\n${isExpr(value) ? prepare(exprSource(value)) : hclLiteral(value)}\n)`,
      );
    }
  }
  for (const [name, list] of blocks) {
    if (!dynamics.has(name)) entries.push(`"${name}" = [${list.join(', ')}]`);
  }
  for (const [name, fors] of dynamics) {
    entries.push(
      `"${name}" = concat([${(blocks.get(name) ?? []).join(', ')}], ${fors.join(', ')})`,
    );
  }
  return `{\n${entries.join('\n')}\n}`;
}

function isBlockList(value: unknown): value is Body[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && '@range' in v)
  );
}

function rangeOf(body: Body): Range {
  return body['@range'] as Range;
}

function sliceBlock(text: string, body: Body): string {
  const r = rangeOf(body);
  return Buffer.from(text, 'utf8').subarray(r.start, r.end).toString('utf8');
}

function isExpr(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('${') && value.endsWith('}');
}

/** The HCL source of an attribute as hcl2json gives it: "${SOURCE}" or a constant. */
function exprSource(value: unknown): string {
  return isExpr(value) ? value.slice(2, -1) : hclLiteral(value);
}

/** A JSON value as an HCL literal expression. */
export function hclLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(/\$\{/g, '$${').replace(/%\{/g, '%%{');
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(hclLiteral).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${hclLiteral(k)} = ${hclLiteral(v)}`,
  );
  return `{ ${entries.join(', ')} }`;
}

/**
 * Replaces every reference to a declared resource or data source in an HCL
 * expression with a template that evaluates to its marker string.
 */
export function substituteRefs(src: string, known: ReadonlySet<string>): string {
  const head = /\b(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)/g;
  let out = '';
  let at = 0;
  for (let m = head.exec(src); m; m = head.exec(src)) {
    const resource = `${m[1] ?? ''}${m[2]}.${m[3]}`;
    const before = src[m.index - 1];
    if (!known.has(resource) || (before !== undefined && /[\w.]/.test(before))) continue;
    let i = m.index + m[0].length;
    let key = '';
    if (src[i] === '[') {
      const end = matchingBracket(src, i);
      const inner = src.slice(i + 1, end).trim();
      if (inner === '*') {
        throw new Error(
          `Splat references (${resource}[*]) are not supported by this checker: ${src}`,
        );
      }
      key = `[\${${substituteRefs(inner, known)}}]`;
      i = end + 1;
    }
    const path = /^(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*/.exec(src.slice(i))?.[0] ?? '';
    out += `${src.slice(at, m.index)}"@ref:${resource}${key}${path}"`;
    at = i + path.length;
    head.lastIndex = at;
  }
  return out + src.slice(at);
}

function matchingBracket(src: string, open: number): number {
  let depth = 0;
  let quote = false;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === '"') quote = false;
    } else if (c === '"') quote = true;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  throw new Error(`Unbalanced [ in ${src}`);
}

const REF =
  /@ref:((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)(?:\[([^\]]*)\])?((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)/g;

/** Every resource reference in an evaluated value, at any depth. */
export function refsIn(value: unknown): Ref[] {
  if (typeof value === 'string') {
    return [...value.matchAll(REF)].map((m) => {
      const resource = m[1] ?? '';
      const key = m[2] ?? null;
      return {
        resource,
        key,
        path: m[3] ?? '',
        address: key === null ? resource : `${resource}[${key}]`,
      };
    });
  }
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(refsIn);
  return [];
}
