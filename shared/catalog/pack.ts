import { gunzipSync, gzipSync } from 'node:zlib';
import { PermanentError } from '../errors.js';
import type { ResourceRef } from '../messages/backup.js';
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
  /** SHA-256 of the canonical JSON of `object` (or of `sealed` for Secrets). */
  digest: string;
  /** The controlling owner, if any: restore leaves such objects to the controller. */
  owner?: { kind: string; name: string };
}

/** One line of a pack: the sanitised manifest, or for a Secret its sealed form. */
export interface PackRecord {
  ref: ObjectRef;
  object?: KubeObject;
  sealed?: Sealed;
}

export interface EncodedPack {
  digest: string;
  gzipped: Buffer;
  objects: number;
}

interface PackHeader {
  apiVersion: 'lifeboat.dev/v1';
  kind: 'Pack';
  resource: ResourceRef;
  objects: number;
}

export function recordDigest(record: Omit<PackRecord, 'ref'>): string {
  return sha256(canonicalJson(record.sealed ?? record.object));
}

/**
 * A pack is gzipped JSON lines (a header, then one record per object). It
 * is addressed by the SHA-256 of its uncompressed bytes, so the same
 * objects always make the same pack and an unchanged cluster uploads none.
 */
export function encodePack(resource: ResourceRef, records: PackRecord[]): EncodedPack {
  const header: PackHeader = {
    apiVersion: 'lifeboat.dev/v1',
    kind: 'Pack',
    resource,
    objects: records.length,
  };
  const lines = [canonicalJson(header), ...records.map((r) => canonicalJson(r))];
  const raw = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  return { digest: sha256(raw), gzipped: gzipSync(raw, { level: 6 }), objects: records.length };
}

/** Decodes a pack and verifies its digest and every object's digest; any mismatch is refused. */
export function decodePack(
  gzipped: Buffer,
  expectedDigest: string,
): { resource: ResourceRef; records: PackRecord[] } {
  let raw: Buffer;
  try {
    raw = gunzipSync(gzipped);
  } catch (error) {
    throw new PermanentError(`Pack ${expectedDigest} is not valid gzip (corrupted?)`, error);
  }
  const actual = sha256(raw);
  if (actual !== expectedDigest) {
    throw new PermanentError(
      `Pack ${expectedDigest} has digest ${actual}: it was modified after the backup`,
    );
  }
  const lines = raw.toString('utf8').trimEnd().split('\n');
  const header = JSON.parse(lines[0] ?? '{}') as PackHeader;
  const records = lines.slice(1).map((l) => JSON.parse(l) as PackRecord);
  if (header.kind !== 'Pack' || header.objects !== records.length) {
    throw new PermanentError(
      `Pack ${expectedDigest} is malformed: header says ${header.objects} objects, found ${records.length}`,
    );
  }
  for (const record of records) {
    if (recordDigest(record) !== record.ref.digest) {
      throw new PermanentError(
        `Object ${record.ref.kind} ${record.ref.namespace ?? ''}/${record.ref.name} in pack ${expectedDigest} does not match its digest`,
      );
    }
  }
  return { resource: header.resource, records };
}
