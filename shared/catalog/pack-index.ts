import { hash } from 'node:crypto';
import { PermanentError } from '../errors.js';
import type { ResourceRef } from '../messages/backup.js';
import { packDigest, recordDigest, type ObjectRef, type PackRecord } from './pack.js';
import { inflatePack, type InflatedPack } from './pack-reader.js';

/**
 * A pack verified as decodePack verifies it, of which only the index (each
 * record's ref) is parsed: what a listing of a backup's objects needs. A
 * record's body is parsed only when asked for.
 */
export interface IndexedPack {
  readonly digest: string;
  readonly resource: ResourceRef;
  readonly refs: readonly ObjectRef[];
  /** Whether record `index` is a sealed Secret. */
  sealed(index: number): boolean;
  /** The record at `index` (0-based), parsed afresh on each call. */
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
 * Indexes a pack, verifying every object's digest and the pack's digest.
 * An object's digest is checked over its body's bytes as stored, which is
 * what the export hashed, without parsing the body; a line of any other
 * shape (or whose bytes differ) is parsed and checked as decodePack checks
 * it, so a pack that decodePack accepts is accepted here, and only such.
 */
export function indexPack(gzipped: Buffer, expectedDigest: string): IndexedPack {
  return indexInflated(inflatePack(gzipped, expectedDigest), expectedDigest);
}

function indexInflated(inflated: InflatedPack, expectedDigest: string): IndexedPack {
  const { raw, starts, ends, headerJson, header, parseRecord: parse } = inflated;
  const count = starts.length - 1;
  const refs: ObjectRef[] = [];
  const sealed: boolean[] = [];
  const refJsons: string[] = [];
  for (let i = 0; i < count; i++) {
    const parts = split(raw, starts[i + 1]!, ends[i + 1]!);
    let ref: ObjectRef | undefined;
    if (parts) {
      try {
        ref = JSON.parse(parts.refJson) as ObjectRef;
      } catch {
        ref = undefined;
      }
      const body = raw.subarray(parts.bodyStart, parts.bodyEnd);
      if (ref && hash('sha256', body, 'hex') !== ref.digest) ref = undefined;
    }
    if (ref && parts) {
      sealed.push(parts.sealed);
      // As the export wrote it, a ref's text is JSON.stringify of the ref: hashed as stored.
      refJsons.push(parts.refJson);
    } else {
      const record = parse(i);
      if (recordDigest(record) !== record.ref.digest) {
        throw new PermanentError(
          `Object ${record.ref.kind} ${record.ref.namespace ?? ''}/${record.ref.name} in pack ${expectedDigest} does not match its digest: it was modified after the backup`,
        );
      }
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
  return {
    digest: expectedDigest,
    resource: header.resource,
    refs,
    sealed: (index) => sealed[index] ?? false,
    record(index: number): PackRecord {
      if (!Number.isInteger(index) || index < 0 || index >= count)
        throw new PermanentError(`Pack ${expectedDigest} has no record ${index} (it has ${count})`);
      return parse(index);
    },
  };
}
