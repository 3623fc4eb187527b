import type { TSchema } from '@sinclair/typebox';
import { NewerFormatError, PermanentError } from '../errors.js';
import { API_VERSION, BackupPolicy } from '../messages/common.js';
import { validate } from '../validate.js';
import { LIFEBOAT_VERSION } from '../version.js';
import { canonicalJson, sha256 } from './canonical.js';
import {
  StoredCatalogV1,
  StoredCatalogV2,
  StoredCatalogV3,
  type Catalog,
} from './catalog-schema.js';

/** The catalog format this version writes. Readers exist for every format ever released. */
export const CATALOG_FORMAT = 3;

/** Who wrote a catalog, recorded in it so a reader too old for its format can say what to run. */
export const WRITTEN_BY = `lifeboat ${LIFEBOAT_VERSION}`;

/** Per released format: its frozen schema, and what each stored field becomes today. */
const readers: Record<
  number,
  { schema: TSchema; writtenBy: (raw: Record<string, unknown>) => string }
> = {
  1: { schema: StoredCatalogV1, writtenBy: () => 'lifeboat 0.1.0' },
  2: { schema: StoredCatalogV2, writtenBy: (raw) => String(raw['writtenBy']) },
  3: { schema: StoredCatalogV3, writtenBy: (raw) => String(raw['writtenBy']) },
};

/** Format 1 catalogs carried the message protocol's apiVersion and no format of their own. */
export function catalogFormatOf(raw: Record<string, unknown>): number | undefined {
  if (raw['formatVersion'] === undefined) return raw['apiVersion'] === API_VERSION ? 1 : undefined;
  const format = raw['formatVersion'];
  return Number.isInteger(format) && (format as number) >= 1 ? (format as number) : undefined;
}

/** SHA-256 of a catalog's canonical JSON without its digest: over what is stored, never a defaulted copy. */
export function catalogDigest(catalog: Record<string, unknown>): string {
  const { digest: _omitted, ...unsigned } = catalog;
  return sha256(canonicalJson(unsigned));
}

/**
 * Turns a stored catalog, of any released format, into the current shape.
 * Order matters: the format is read first (a newer one is refused with the
 * version that can read it), then the digest is checked over the catalog
 * exactly as stored, and only then is it validated and upgraded on a copy.
 */
export function upgradeCatalog(parsed: unknown, where: string): Catalog {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new PermanentError(`${where} is not a JSON object`);
  const raw = parsed as Record<string, unknown>;
  const format = catalogFormatOf(raw);
  if (format === undefined)
    throw new PermanentError(
      `${where} has no recognisable format version: it is not a Lifeboat catalog`,
    );
  const reader = readers[format];
  if (!reader) {
    const writer = typeof raw['writtenBy'] === 'string' ? raw['writtenBy'] : 'a newer Lifeboat';
    throw new NewerFormatError(
      `${where} has catalog format ${format}, written by ${writer}; ${WRITTEN_BY} reads formats 1 to ${CATALOG_FORMAT}: read it with ${writer} or later`,
    );
  }
  const actual = catalogDigest(raw);
  if (actual !== raw['digest']) {
    throw new PermanentError(
      `${where} does not match its digest (expected ${String(raw['digest'])}, got ${actual}): it was modified after the backup`,
    );
  }
  const stored = validate(reader.schema, structuredClone(raw), where) as Record<string, unknown>;
  const { apiVersion: _protocol, ...rest } = stored;
  const policy = validate(BackupPolicy, structuredClone(raw['policy']), `${where}: policy`);
  return {
    ...(rest as Omit<Catalog, 'policy' | 'formatVersion' | 'writtenBy'>),
    formatVersion: format,
    writtenBy: reader.writtenBy(raw),
    policy,
  };
}
