import type { Random } from './fuzz-random.js';

/** What a JSON message is made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Path = (string | number)[];

export const clone = <T>(value: T): T => structuredClone(value);

const isObject = (v: unknown): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every path inside `value` (not the root), depth first, at most 24 levels down. */
export function allPaths(value: Json, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (prefix.length >= 24) return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i], ...allPaths(v, [...prefix, i]));
    });
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k], ...allPaths(v, [...prefix, k]));
    }
  }
  return out;
}

export function getAt(root: Json, path: Path): Json | undefined {
  let node: Json | undefined = root;
  for (const step of path) {
    if (Array.isArray(node) && typeof step === 'number') node = node[step];
    else if (isObject(node) && typeof step === 'string') node = node[step];
    else return undefined;
  }
  return node;
}

/** Sets (or, with `undefined`, deletes) the value at `path`, in place. */
export function setAt(root: Json, path: Path, value: Json | undefined): void {
  if (path.length === 0) throw new Error('cannot replace the root in place');
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number') {
    if (value === undefined) parent.splice(last, 1);
    else parent[last] = value;
  } else if (isObject(parent) && typeof last === 'string') {
    if (value === undefined) delete parent[last];
    // defineProperty: a key such as "__proto__" becomes an own property, as JSON.parse makes it.
    else
      Object.defineProperty(parent, last, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
}

export const pointer = (path: Path): string =>
  path.length === 0 ? '(root)' : '/' + path.map(String).join('/');

/** A short, printable preview of a value for failure messages. */
export function preview(value: unknown, max = 60): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = `[${typeof value} that does not print]`;
  }
  if (text.length > max) text = `${text.slice(0, max)}…(${text.length} chars)`;
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202e]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Strings that have broken parsers, paths and shells before. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '.',
  '..',
  '../',
  '../../../../etc/passwd',
  'a/../../b',
  '/absolute/path',
  '..%2F..%2Fescape',
  '%2e%2e%2f%2e%2e%2f',
  '%2F',
  '%00',
  'a\u0000b',
  '\u0000',
  'line\nbreak',
  'tab\tand\rreturn',
  '\u202eevil',
  'ünïcödé-ñame',
  '名前',
  '🚀🚀🚀',
  '\ud800',
  '\uffff',
  '*',
  '**/*',
  '?',
  '[a-',
  '${HOME}',
  '$(id)',
  '`id`',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  'gs://another-bucket/lifeboat',
  'file:///etc/passwd',
  'http://169.254.169.254/computeMetadata/v1/',
  'kube-system',
  'default',
  'restores',
  'backups/local.local.source',
  'keys',
  'lifeboat-store.json',
  'objects/sha256/00/..',
  'a.b.c',
  'UPPER-case',
  '-leading-dash',
  'trailing-dash-',
  'CON',
  'NUL',
  '__proto__',
  'constructor',
  'null',
  'true',
  '0',
  '-1',
  '1e999',
  'NaN',
  '2026-13-45T99:99:99Z',
  'not-a-date',
];

/** A hostile string: from the list, overlong, or a random mix of awkward code points. */
export function hostileString(r: Random): string {
  return r.weighted<() => string>([
    [10, () => r.pick(HOSTILE_STRINGS)],
    [2, () => 'a'.repeat(r.pick([64, 254, 256, 300, 1025]))],
    [1, () => `${'x'.repeat(255)}/`.repeat(r.int(2, 20))],
    [1, () => 'n'.repeat(r.pick([5_000, 70_000]))],
    [0.15, () => 'm'.repeat(1_000_000)],
    [
      2,
      () => {
        const pool = [
          'a',
          '/',
          '.',
          '\u0000',
          '%',
          '\\',
          '\u00e9',
          '\u{1f680}',
          '\ud800',
          ' ',
          '-',
        ];
        let s = '';
        for (let i = r.int(1, 40); i > 0; i--) s += r.pick(pool);
        return s;
      },
    ],
  ])();
}

/** A deeply nested value: arrays or objects `depth` levels down. */
export function deepValue(depth: number, objects: boolean): Json {
  let v: Json = 'bottom';
  for (let i = 0; i < depth; i++) v = objects ? { a: v } : [v];
  return v;
}

/**
 * Nesting too deep for JSON.stringify or structuredClone (JSON.parse takes
 * it): spliced into a message's text where `DEEP_PLACEHOLDER` stands.
 */
export const DEEP_PLACEHOLDER = 'fuzz-deep-placeholder-7f3a';

export function deepText(depth: number, objects: boolean): string {
  return objects
    ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** A value of any JSON type, most of them wrong wherever they land. */
export function hostileValue(r: Random): Json {
  return r.weighted<() => Json>([
    [6, () => hostileString(r)],
    [
      3,
      () =>
        r.pick<Json>([0, -1, 1.5, -0.5, 1e308, -1e308, 2 ** 53 + 2, 4294967296, 1e-7, 65536, 3601]),
    ],
    [1, () => r.chance(0.5)],
    [2, () => null],
    [1, () => []],
    [1, () => ({})],
    [1, () => [hostileString(r)]],
    [1, () => ({ [hostileString(r)]: hostileString(r) })],
    [0.4, () => deepValue(r.pick([20, 50, 200]), r.chance(0.5))],
  ])();
}

/** One mutation applied to a message, described for a failure message. */
export interface Mutation {
  value: Json;
  what: string;
}

/** Changes a string the ways paths and names go wrong. */
function mutateString(r: Random, s: string): string {
  return r.weighted<() => string>([
    [2, () => `../${s}`],
    [2, () => `${s}/../../escape`],
    [1, () => `${s}%2F..%2F`],
    [2, () => `${s}\u0000`],
    [1, () => `${s.slice(0, 1)}\u0000${s.slice(1)}`],
    [2, () => s.repeat(Math.ceil(r.pick([300, 5000]) / Math.max(1, s.length)))],
    [1, () => s.toUpperCase()],
    [1, () => `${s}-ü`],
    [1, () => ` ${s} `],
    [1, () => `${s}/x`],
    [1, () => `${s}.`],
    [1, () => ''],
    [2, () => hostileString(r)],
  ])();
}

/**
 * A structural mutation of a message at a random place: a wrong type, a
 * missing or extra field, a hostile string, deep nesting, another kind or
 * apiVersion. Returns a new value; `message` is not changed.
 */
export function mutateJson(r: Random, message: Json): Mutation {
  const value = clone(message);
  if (!isObject(value)) return { value: hostileValue(r), what: 'replace (root)' };
  const paths = allPaths(value);
  const strings = paths.filter((p) => typeof getAt(value, p) === 'string');
  const objects = [[], ...paths.filter((p) => isObject(getAt(value, p)))];
  const op = r.weighted<string>([
    [5, 'replace'],
    [5, 'string'],
    [3, 'delete'],
    [3, 'extra'],
    [1, 'kind'],
    [1, 'apiVersion'],
    [1, 'retype'],
  ]);
  switch (op) {
    case 'string': {
      if (strings.length === 0) break;
      const path = r.pick(strings);
      const next = mutateString(r, getAt(value, path) as string);
      setAt(value, path, next);
      return { value, what: `string ${pointer(path)} = ${preview(next)}` };
    }
    case 'delete': {
      const path = r.pick(paths);
      setAt(value, path, undefined);
      return { value, what: `delete ${pointer(path)}` };
    }
    case 'extra': {
      const at = r.pick(objects);
      const key = r.pick([
        'extra',
        '__proto__',
        'constructor',
        'options',
        'policy',
        'plan',
        hostileString(r),
      ]);
      const v = hostileValue(r);
      const target = getAt(value, at);
      if (isObject(target))
        Object.defineProperty(target, key, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return { value, what: `extra ${pointer([...at, key])} = ${preview(v)}` };
    }
    case 'kind': {
      const kind = r.pick([
        'ScheduleTick',
        'ClusterBackupJob',
        'ExportShard',
        'VolumeSnapshotJob',
        'PartDone',
        'BackupCompleted',
        'RestoreRequest',
        'RestoreCompleted',
        'ClusterResponse',
        'RetentionTick',
        'scheduletick',
        '',
        'Kind',
      ]);
      value['kind'] = kind;
      return { value, what: `kind = ${preview(kind)}` };
    }
    case 'apiVersion': {
      const v = r.pick<Json>(['lifeboat.dev/v2', 'lifeboat.dev/v1beta1', 'v1', '', null, 1]);
      value['apiVersion'] = v;
      return { value, what: `apiVersion = ${preview(v)}` };
    }
    case 'retype': {
      const path = r.pick(paths);
      const old = getAt(value, path);
      const next: Json =
        typeof old === 'string'
          ? r.pick<Json>([Number(old) || 7, [old], { value: old }, old === '' ? null : true])
          : typeof old === 'number'
            ? r.pick<Json>([String(old), [old], old + 0.5, -old - 1])
            : typeof old === 'boolean'
              ? r.pick<Json>([String(old), old ? 1 : 0])
              : Array.isArray(old)
                ? r.pick<Json>([{ ...old }, old.length, old.map((x) => typeof x).join(',')])
                : isObject(old)
                  ? r.pick<Json>([Object.values(old), JSON.stringify(old)])
                  : r.pick<Json>(['null', 0, false]);
      setAt(value, path, next);
      return { value, what: `retype ${pointer(path)} = ${preview(next)}` };
    }
  }
  const path = r.pick(paths);
  const v = hostileValue(r);
  setAt(value, path, v);
  return { value, what: `replace ${pointer(path)} = ${preview(v)}` };
}
