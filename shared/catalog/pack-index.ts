import { hash } from 'node:crypto';
import { PermanentError } from '../errors.js';
import type { ResourceRef } from '../messages/backup.js';
import { packDigest, recordDigest, type ObjectRef, type PackRecord } from './pack.js';
import { inflatePack, type InflatedPack } from './pack-reader.js';

/**
 * A pack whose index (each record's ref) is parsed and verified against the
 * pack's digest, which covers the header and every ref, each ref holding its
 * object's digest: what a listing of a backup's objects needs. A record's
 * body is parsed, and checked against its ref's digest, only when asked for,
 * so a listing of 100,000 objects hashes none of their bodies, and a body
 * changed after the backup is refused the moment anything reads it.
 */
export interface IndexedPack {
  readonly digest: string;
  readonly resource: ResourceRef;
  readonly refs: readonly ObjectRef[];
  /** Whether record `index` is a sealed Secret. */
  sealed(index: number): boolean;
  /** The record at `index` (0-based), parsed afresh and verified on each call. */
  record(index: number): PackRecord;
}

// The two line shapes encodeRecord writes: the body, then the ref; or the ref, then the sealed body.
const OBJECT_HEAD = Buffer.from('{"object":');
const REF_KEY = Buffer.from(',"ref":');
const REF_HEAD = Buffer.from('{"ref":');
const SEALED_KEY = Buffer.from(',"sealed":');

interface Split {
  refJson: string;
  bodyStart: number;
  bodyEnd: number;
  sealed: boolean;
}

/**
 * The ref and the body's byte range of a line as Lifeboat writes it, or
 * undefined for any other shape. A ref holds no `"ref"` or `"sealed"` key,
 * so the last `,"ref":` of an object line and the first `,"sealed":` of a
 * sealed line are the true boundaries, whatever the body contains.
 */
function split(raw: Buffer, start: number, end: number): Split | undefined {
  if (end - start < 2 || raw[end - 1] !== 0x7d) return undefined;
  const head = raw.subarray(start, start + OBJECT_HEAD.length);
  if (head.equals(OBJECT_HEAD)) {
    const at = raw.lastIndexOf(REF_KEY, end);
    if (at < start + OBJECT_HEAD.length) return undefined;
    return {
      refJson: raw.toString('utf8', at + REF_KEY.length, end - 1),
      bodyStart: start + OBJECT_HEAD.length,
      bodyEnd: at,
      sealed: false,
    };
  }
  if (raw.subarray(start, start + REF_HEAD.length).equals(REF_HEAD)) {
    const at = raw.indexOf(SEALED_KEY, start);
    if (at < 0 || at >= end) return undefined;
    return {
      refJson: raw.toString('utf8', start + REF_HEAD.length, at),
      bodyStart: at + SEALED_KEY.length,
      bodyEnd: end - 1,
      sealed: true,
    };
  }
  return undefined;
}

/**
 * Indexes a pack, verifying the pack's digest over its header and refs; each
 * body is verified when its record is read. A ref is read from a line as the
 * export writes it without parsing the body; a line of any other shape is
 * parsed and checked at once as decodePack checks it, so a pack that
 * decodePack accepts is accepted here, and a record it refuses is refused
 * when read.
 */
export function indexPack(gzipped: Buffer, expectedDigest: string): IndexedPack {
  return indexInflated(inflatePack(gzipped, expectedDigest), expectedDigest);
}

function refusedRecord(record: PackRecord, packDigestHex: string): PermanentError {
  return new PermanentError(
    `Object ${record.ref.kind} ${record.ref.namespace ?? ''}/${record.ref.name} in pack ${packDigestHex} does not match its digest: it was modified after the backup`,
  );
}

function indexInflated(inflated: InflatedPack, expectedDigest: string): IndexedPack {
  const { raw, starts, ends, headerJson, header, parseRecord: parse } = inflated;
  const count = starts.length - 1;
  const refs: ObjectRef[] = [];
  const sealed: boolean[] = [];
  const refJsons: string[] = [];
  // The stored body's byte range of each record read without parsing it; -1 once verified.
  const bodyStarts = new Int32Array(count).fill(-1);
  const bodyEnds = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const parts = split(raw, starts[i + 1]!, ends[i + 1]!);
    let ref: ObjectRef | undefined;
    if (parts) {
      try {
        ref = JSON.parse(parts.refJson) as ObjectRef;
      } catch {
        ref = undefined;
      }
    }
    if (ref && parts) {
      sealed.push(parts.sealed);
      bodyStarts[i] = parts.bodyStart;
      bodyEnds[i] = parts.bodyEnd;
      // As the export wrote it, a ref's text is JSON.stringify of the ref: hashed as stored.
      refJsons.push(parts.refJson);
    } else {
      const record = parse(i);
      if (recordDigest(record) !== record.ref.digest) throw refusedRecord(record, expectedDigest);
      ref = record.ref;
      sealed.push(record.sealed !== undefined);
      refJsons.push(JSON.stringify(ref));
    }
    refs.push(ref);
  }
  if (header.kind !== 'Pack' || header.objects !== count) {
    throw new PermanentError(
      `Pack ${expectedDigest} is malformed: header says ${header.objects} objects, found ${count}`,
    );
  }
  let actual = packDigest(headerJson, refJsons);
  // Refs stored in another spelling (decodePack hashes them re-serialised): hashed as it does.
  if (actual !== expectedDigest) {
    actual = packDigest(
      headerJson,
      refs.map((r) => JSON.stringify(r)),
    );
  }
  if (actual !== expectedDigest) {
    throw new PermanentError(
      `Pack ${expectedDigest} has digest ${actual}: it was modified after the backup`,
    );
  }
  // The body's bytes as stored are what the export hashed; another spelling is hashed as decodePack does.
  const verified = (index: number, record: PackRecord): PackRecord => {
    const digest = refs[index]!.digest;
    const start = bodyStarts[index]!;
    if (start < 0) return record;
    const ok =
      hash('sha256', raw.subarray(start, bodyEnds[index]), 'hex') === digest ||
      recordDigest(record) === digest;
    if (!ok) throw refusedRecord(record, expectedDigest);
    bodyStarts[index] = -1;
    return record;
  };
  return {
    digest: expectedDigest,
    resource: header.resource,
    refs,
    sealed: (index) => sealed[index] ?? false,
    record(index: number): PackRecord {
      if (!Number.isInteger(index) || index < 0 || index >= count)
        throw new PermanentError(`Pack ${expectedDigest} has no record ${index} (it has ${count})`);
      return verified(index, parse(index));
    },
  };
}
