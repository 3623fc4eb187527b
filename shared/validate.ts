import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';
import { ValidationError } from './errors.js';

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
// ajv-formats ships CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (a: Ajv) => Ajv;
addFormats(ajv);
const compiled = new WeakMap<TSchema, ValidateFunction>();

function validatorFor(schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

function describe(error: ErrorObject): string {
  const at = error.instancePath === '' ? '(root)' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    return `${at}: unknown property "${String(error.params['additionalProperty'])}"`;
  }
  if (error.keyword === 'enum' || error.keyword === 'const') {
    const allowed = (error.params['allowedValues'] ?? [error.params['allowedValue']]) as unknown[];
    return `${at}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${at}: ${error.message ?? error.keyword}`;
}

/**
 * Checks `value` against a TypeBox schema (defaults are filled in place) and
 * returns it typed, or throws a ValidationError that lists each problem with
 * its JSON path, prefixed by `where` (a file, a message kind, a flag).
 */
export function validate<S extends TSchema>(schema: S, value: unknown, where: string): Static<S> {
  const fn = validatorFor(schema);
  if (fn(value)) return value as Static<S>;
  const errors = (fn.errors ?? []).filter(
    (e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if',
  );
  // A union of literals fails once per literal: say it once, with every allowed value.
  const allowedAt = new Map<string, unknown[]>();
  for (const e of errors.filter((e) => e.keyword === 'const')) {
    allowedAt.set(e.instancePath, [
      ...(allowedAt.get(e.instancePath) ?? []),
      e.params['allowedValue'],
    ]);
  }
  const problems = errors.map((e) =>
    e.keyword === 'const'
      ? describe({ ...e, params: { allowedValues: allowedAt.get(e.instancePath) } })
      : describe(e),
  );
  throw new ValidationError(where, [...new Set(problems)].slice(0, 8));
}
