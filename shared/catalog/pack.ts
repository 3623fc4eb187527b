import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { NewerFormatError, PermanentError } from '../errors.js';
import { WRITTEN_BY } from './catalog-format.js';
import type { ResourceRef } from '../messages/backup.js';
import { API_VERSION } from '../messages/common.js';
import type { Sealed } from '../crypto/sealer.js';
import type { KubeObject } from '../kube/sanitize.js';
import { canonicalJson, sha256 } from './canonical.js';

/** What the catalog knows about one backed-up object. */
export interface ObjectRef {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  namespace?: string;
  name: string;
  /** SHA-256 of the JSON of `object` as stored (or of `sealed` for Secrets). */
  digest: string;
  /** The controlling owner, if any: restore leaves such objects to the controller. */
  owner?: { kind: string; name: string };
  /**
   * The object's resourceVersion when it was listed (the API server's, dropped from the
   * manifest): with the catalog's revision, it lets anyone check the backup's consistency.
   */
  resourceVersion?: string;
}

/** One line of a pack: the sanitised manifest, or for a Secret its sealed form. */
export interface PackRecord {
  ref: ObjectRef;
  object?: KubeObject;
  sealed?: Sealed;
}

/** A record encoded once by the export: its digest, its index entry and its pack line. */
export interface EncodedRecord {
  digest: string;
  refJson: string;
  /** The record's JSON line; a string, so a pack is encoded to bytes once, not per object. */
  line: string;
}

const gzipAsync = promisify(gzip);

/**
 * An object's digest is over its JSON exactly as stored. The API server
 * writes fields in a fixed order (struct order, map keys sorted) and
 * JSON.parse keeps that order, so an unchanged object gives the same bytes
 * without the cost of sorting keys; re-serialising a parsed record
 * reproduces them, which is how restore verifies each object.
 */
export function recordDigest(record: Omit<PackRecord, 'ref'>): string {
  return sha256(JSON.stringify(record.sealed ?? record.object));
}

/** Serialises a record once; the payload's bytes are hashed and reused for the pack line. */
export function encodeRecord(
  ref: Omit<ObjectRef, 'digest'>,
  payload: { object: KubeObject } | { sealed: Sealed },
): EncodedRecord {
  const isObject = 'object' in payload;
  const body = JSON.stringify(isObject ? payload.object : payload.sealed);
  const digest = sha256(body);
  const refJson = JSON.stringify({ ...ref, digest });
  const line = isObject
    ? `{"object":${body},"ref":${refJson}}\n`
    : `{"ref":${refJson},"sealed":${body}}\n`;
  return { digest, refJson, line };
}

export interface EncodedPack {
  digest: string;
  gzipped: Buffer;
  objects: number;
}

/**
 * The export cuts a pack once its records pass this many bytes, so a pack it
 * writes holds at most this plus one object (at most 3 MiB, 4 MiB sealed).
 */
export const PACK_CUT_BYTES = 16 * 1024 * 1024;

/**
 * The most a pack may gunzip to: four times the largest pack the export
 * writes, room for packs of earlier versions (2048 objects, cut by count
 * only); past it a pack is refused as a gzip bomb without being inflated further.
 */
export const PACK_MAX_RAW_BYTES = 4 * PACK_CUT_BYTES;

/** The pack format this version writes; packs of format 1 (no formatVersion) are still read. */
export const PACK_FORMAT = 2;

export interface PackHeader {
  /** Absent in format 1, whose header carried the message protocol's apiVersion instead. */
  formatVersion?: number;
  apiVersion?: typeof API_VERSION;
  kind: 'Pack';
  resource: ResourceRef;
  objects: number;
}

export function packFormatOf(header: PackHeader): number | undefined {
  if (header.formatVersion === undefined) return header.apiVersion === API_VERSION ? 1 : undefined;
  const format = header.formatVersion;
  return Number.isInteger(format) && format >= 1 ? format : undefined;
}

/** A pack's bytes inflated, refusing a pack that is not gzip or inflates past any pack Lifeboat writes. */
export function inflatePackBytes(gzipped: Buffer, expectedDigest: string): Buffer {
  try {
    return gunzipSync(gzipped, { maxOutputLength: PACK_MAX_RAW_BYTES });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PermanentError(
        `Pack ${expectedDigest} inflates to more than ${PACK_MAX_RAW_BYTES} bytes, more than any pack Lifeboat writes: refused (a gzip bomb?)`,
        error,
      );
    }
    throw new PermanentError(`Pack ${expectedDigest} is not valid gzip (corrupted?)`, error);
  }
}

/**
 * A pack's header line parsed, its format read before anything else: a
 * newer pack is refused, never misread.
 */
export function parsePackHeader(headerJson: string, expectedDigest: string): PackHeader {
  let header: PackHeader;
  try {
    header = JSON.parse(headerJson) as PackHeader;
  } catch (error) {
    throw new PermanentError(
      `Pack ${expectedDigest} has no valid header: it was modified after the backup`,
      error,
    );
  }
  const format = packFormatOf(header);
  if (format === undefined)
    throw new PermanentError(
      `Pack ${expectedDigest} has no recognisable format: it is not a Lifeboat pack`,
    );
  if (format > PACK_FORMAT) {
    throw new NewerFormatError(
      `Pack ${expectedDigest} has pack format ${format}; ${WRITTEN_BY} reads formats 1 to ${PACK_FORMAT}: read it with the Lifeboat that wrote its catalog`,
    );
  }
  return header;
}

/**
 * A pack's digest is the SHA-256 of its index: the header line and each
 * record's ref, which carries the digest of that record's bytes. It binds
 * every byte of the pack while hashing each object only once, and the same
 * objects always make the same pack, so an unchanged cluster uploads none.
 */
export function packDigest(headerJson: string, refJsons: string[]): string {
  return sha256(`${headerJson}\n${refJsons.join('\n')}`);
}

/** A pack is gzipped JSON lines: a header, then one record per object. */
export async function encodePack(
  resource: ResourceRef,
  records: EncodedRecord[],
): Promise<EncodedPack> {
  const header: PackHeader = {
    formatVersion: PACK_FORMAT,
    kind: 'Pack',
    resource,
    objects: records.length,
  };
  const headerJson = canonicalJson(header);
  const raw = Buffer.from(`${headerJson}\n${records.map((r) => r.line).join('')}`);
  // Asynchronous gzip runs on libuv's thread pool, beside the thread that lists and encodes.
  const gzipped = await gzipAsync(raw, { level: 1 });
  return {
    digest: packDigest(
      headerJson,
      records.map((r) => r.refJson),
    ),
    gzipped,
    objects: records.length,
  };
}

/** Decodes a pack and verifies its digest and every object's digest; any mismatch is refused. */
export function decodePack(
  gzipped: Buffer,
  expectedDigest: string,
): { resource: ResourceRef; records: PackRecord[] } {
  const raw = inflatePackBytes(gzipped, expectedDigest);
  const lines = raw.toString('utf8').trimEnd().split('\n');
  const headerJson = lines[0] ?? '{}';
  const header = parsePackHeader(headerJson, expectedDigest);
  let records: PackRecord[];
  try {
    records = lines.slice(1).map((l) => JSON.parse(l) as PackRecord);
  } catch (error) {
    throw new PermanentError(
      `Pack ${expectedDigest} is not valid JSON lines: it was modified after the backup`,
      error,
    );
  }
  if (header.kind !== 'Pack' || header.objects !== records.length) {
    throw new PermanentError(
      `Pack ${expectedDigest} is malformed: header says ${header.objects} objects, found ${records.length}`,
    );
  }
  for (const record of records) {
    if (recordDigest(record) !== record.ref.digest) {
      throw new PermanentError(
        `Object ${record.ref.kind} ${record.ref.namespace ?? ''}/${record.ref.name} in pack ${expectedDigest} does not match its digest: it was modified after the backup`,
      );
    }
  }
  const actual = packDigest(
    headerJson,
    records.map((r) => JSON.stringify(r.ref)),
  );
  if (actual !== expectedDigest) {
    throw new PermanentError(
      `Pack ${expectedDigest} has digest ${actual}: it was modified after the backup`,
    );
  }
  return { resource: header.resource, records };
}
