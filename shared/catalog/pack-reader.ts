import { PermanentError } from '../errors.js';
import {
  inflatePackBytes,
  packDigest,
  parsePackHeader,
  recordDigest,
  type PackHeader,
  type PackRecord,
} from './pack.js';

/**
 * A pack verified as decodePack verifies it (format, count, every object's
 * digest, the pack's digest), kept as its inflated bytes: a record is
 * parsed only when asked for, so memory is the pack's bytes, not its
 * objects, however many records a caller leaves untouched.
 */
export interface OpenedPack {
  readonly digest: string;
  readonly count: number;
  /** The record at `index` (0-based), parsed afresh on each call. */
  record(index: number): PackRecord;
}

const WHITESPACE = new Set([0x20, 0x0a, 0x0d, 0x09]);

/** Line boundaries of the text with trailing whitespace trimmed, as decodePack splits it. */
function lineOffsets(raw: Buffer): { starts: number[]; ends: number[] } {
  let end = raw.length;
  while (end > 0 && WHITESPACE.has(raw[end - 1]!)) end--;
  const starts: number[] = [];
  const ends: number[] = [];
  let start = 0;
  for (;;) {
    const nl = raw.indexOf(0x0a, start);
    if (nl < 0 || nl >= end) {
      starts.push(start);
      ends.push(end);
      return { starts, ends };
    }
    starts.push(start);
    ends.push(nl);
    start = nl + 1;
  }
}

/** A pack inflated, split into lines, and its header read and checked (format, kind). */
export interface InflatedPack {
  raw: Buffer;
  /** Byte offsets of each line (0: the header), trailing whitespace trimmed. */
  starts: number[];
  ends: number[];
  headerJson: string;
  header: PackHeader;
  line(index: number): string;
  /** Record `index` (0-based, after the header) parsed; a line that is not JSON is refused. */
  parseRecord(index: number): PackRecord;
}

export function inflatePack(gzipped: Buffer, expectedDigest: string): InflatedPack {
  const raw = inflatePackBytes(gzipped, expectedDigest);
  const { starts, ends } = lineOffsets(raw);
  const line = (i: number): string => raw.toString('utf8', starts[i], ends[i]);
  const headerJson = line(0);
  const header = parsePackHeader(headerJson, expectedDigest);
  const parseRecord = (index: number): PackRecord => {
    try {
      return JSON.parse(line(index + 1)) as PackRecord;
    } catch (error) {
      throw new PermanentError(
        `Pack ${expectedDigest} is not valid JSON lines: it was modified after the backup`,
        error,
      );
    }
  };
  return { raw, starts, ends, headerJson, header, line, parseRecord };
}

export function openPack(gzipped: Buffer, expectedDigest: string): OpenedPack {
  const { starts, headerJson, header, parseRecord: parse } = inflatePack(gzipped, expectedDigest);
  const count = starts.length - 1;
  // Every record parsed once to verify it, then dropped: only its ref's JSON is kept, for the digest.
  const refJsons: string[] = [];
  for (let i = 0; i < count; i++) {
    const record = parse(i);
    if (recordDigest(record) !== record.ref.digest) {
      throw new PermanentError(
        `Object ${record.ref.kind} ${record.ref.namespace ?? ''}/${record.ref.name} in pack ${expectedDigest} does not match its digest: it was modified after the backup`,
      );
    }
    refJsons.push(JSON.stringify(record.ref));
  }
  if (header.kind !== 'Pack' || header.objects !== count) {
    throw new PermanentError(
      `Pack ${expectedDigest} is malformed: header says ${header.objects} objects, found ${count}`,
    );
  }
  const actual = packDigest(headerJson, refJsons);
  if (actual !== expectedDigest) {
    throw new PermanentError(
      `Pack ${expectedDigest} has digest ${actual}: it was modified after the backup`,
    );
  }
  return {
    digest: expectedDigest,
    count,
    record(index: number): PackRecord {
      if (!Number.isInteger(index) || index < 0 || index >= count)
        throw new PermanentError(`Pack ${expectedDigest} has no record ${index} (it has ${count})`);
      return parse(index);
    },
  };
}
