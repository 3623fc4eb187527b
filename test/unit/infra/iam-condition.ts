/**
 * Evaluates an IAM condition expression on a resource, for the subset of
 * CEL that IAM allows on resource names: string literals, `resource.name`
 * and `resource.type`, the methods startsWith, endsWith and extract, the
 * operators == and !=, and &&, || and ! with parentheses. Anything else
 * throws, so a condition this cannot read is reported, never guessed.
 *
 * extract(template): the template is literal text around one `{var}`; the
 * result is the shortest text between the first occurrence of the text
 * before `{var}` and the next occurrence of the text after it (to the end
 * when nothing follows `{var}`), or "" when the template does not match,
 * as the IAM Conditions attribute reference describes it.
 */
export interface Resource {
  name: string;
  type: string;
}

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'ident'; value: string }
  | { kind: 'op'; value: string };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\') {
          const next = src[i + 1] ?? '';
          if (!['\\', '"', "'"].includes(next)) throw new Error(`unsupported escape \\${next}`);
          value += next;
          i += 2;
        } else {
          value += src[i];
          i++;
        }
      }
      if (i >= src.length) throw new Error('unterminated string');
      i++;
      tokens.push({ kind: 'string', value });
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))?.[0] ?? '';
      tokens.push({ kind: 'ident', value: m });
      i += m.length;
    } else {
      const two = src.slice(i, i + 2);
      if (['==', '!=', '&&', '||'].includes(two)) {
        tokens.push({ kind: 'op', value: two });
        i += 2;
      } else if ('()!.,'.includes(c)) {
        tokens.push({ kind: 'op', value: c });
        i++;
      } else {
        throw new Error(`unexpected character ${JSON.stringify(c)}`);
      }
    }
  }
  return tokens;
}

export function extract(name: string, template: string): string {
  const m = /^([^{}]*)\{[A-Za-z_][A-Za-z0-9_]*\}([^{}]*)$/.exec(template);
  if (!m) throw new Error(`extract template ${JSON.stringify(template)}: one {var} expected`);
  const [, before = '', after = ''] = m;
  const start = name.indexOf(before);
  if (start < 0) return '';
  const from = start + before.length;
  if (after === '') return name.slice(from);
  const end = name.indexOf(after, from);
  return end < 0 ? '' : name.slice(from, end);
}

/** Whether the condition grants access to `resource`; throws on what it cannot evaluate. */
export function evaluateCondition(expression: string, resource: Resource): boolean {
  const tokens = tokenize(expression);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const isOp = (value: string): boolean => {
    const t = peek();
    return t?.kind === 'op' && t.value === value;
  };
  const expect = (value: string): void => {
    if (!isOp(value)) throw new Error(`expected "${value}" at token ${at} of ${expression}`);
    at++;
  };

  const primary = (): string | boolean => {
    const t = peek();
    if (!t) throw new Error(`unexpected end of ${expression}`);
    let value: string | boolean;
    if (t.kind === 'string') {
      at++;
      value = t.value;
    } else if (t.kind === 'ident' && t.value === 'resource') {
      at++;
      expect('.');
      const attr = peek();
      at++;
      if (attr?.kind !== 'ident' || !['name', 'type'].includes(attr.value)) {
        throw new Error(`unsupported attribute resource.${attr?.value ?? ''}`);
      }
      value = attr.value === 'name' ? resource.name : resource.type;
    } else if (isOp('(')) {
      at++;
      value = or();
      expect(')');
    } else if (isOp('!')) {
      at++;
      const operand = primary();
      if (typeof operand !== 'boolean') throw new Error('! of a string');
      return !operand;
    } else {
      throw new Error(`unexpected ${t.value} in ${expression}`);
    }
    while (isOp('.')) {
      at++;
      const method = peek();
      at++;
      expect('(');
      const arg = or();
      expect(')');
      if (typeof value !== 'string' || typeof arg !== 'string') {
        throw new Error(`${method?.value ?? ''}() needs strings`);
      }
      if (method?.value === 'startsWith') value = value.startsWith(arg);
      else if (method?.value === 'endsWith') value = value.endsWith(arg);
      else if (method?.value === 'extract') value = extract(value, arg);
      else throw new Error(`unsupported function ${method?.value ?? ''}()`);
    }
    return value;
  };
  const equality = (): string | boolean => {
    const left = primary();
    if (isOp('==') || isOp('!=')) {
      const op = peek()?.value;
      at++;
      const right = primary();
      if (typeof left !== typeof right) throw new Error(`${op} between a string and a boolean`);
      return op === '==' ? left === right : left !== right;
    }
    return left;
  };
  const and = (): string | boolean => {
    let left = equality();
    while (isOp('&&')) {
      at++;
      const right = equality();
      if (typeof left !== 'boolean' || typeof right !== 'boolean') throw new Error('&& of strings');
      left = left && right;
    }
    return left;
  };
  const or = (): string | boolean => {
    let left = and();
    while (isOp('||')) {
      at++;
      const right = and();
      if (typeof left !== 'boolean' || typeof right !== 'boolean') throw new Error('|| of strings');
      left = left || right;
    }
    return left;
  };

  const result = or();
  if (at !== tokens.length) throw new Error(`unexpected ${peek()?.value ?? ''} in ${expression}`);
  if (typeof result !== 'boolean') throw new Error(`${expression} is not a condition`);
  return result;
}
