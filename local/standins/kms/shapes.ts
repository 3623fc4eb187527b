/**
 * The JSON the Cloud KMS API v1 answers with (proto3 JSON mapping of
 * google.cloud.kms.v1: camelCase fields, bytes as base64, int64 wrappers
 * as strings, Durations as "Ns", enums by name or, when the client asks
 * for `$alt=json;enum-encoding=int`, by number).
 */

import type { Json, JsonObject } from '../google-json.js';

/** google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionState. */
export const VersionStates = {
  CRYPTO_KEY_VERSION_STATE_UNSPECIFIED: 0,
  ENABLED: 1,
  DISABLED: 2,
  DESTROYED: 3,
  DESTROY_SCHEDULED: 4,
  PENDING_GENERATION: 5,
} as const;
export type VersionState = keyof typeof VersionStates;

/** google.cloud.kms.v1.CryptoKey.CryptoKeyPurpose (the ones this stand-in knows). */
export const Purposes = {
  CRYPTO_KEY_PURPOSE_UNSPECIFIED: 0,
  ENCRYPT_DECRYPT: 1,
  ASYMMETRIC_SIGN: 5,
  ASYMMETRIC_DECRYPT: 6,
  RAW_ENCRYPT_DECRYPT: 7,
  MAC: 9,
} as const;

const SOFTWARE = 1; // google.cloud.kms.v1.ProtectionLevel.SOFTWARE
const GOOGLE_SYMMETRIC_ENCRYPTION = 1; // CryptoKeyVersionAlgorithm

/** An enum field as the client sent it (name or number), by name; undefined when unknown. */
export function enumName<T extends Record<string, number>>(
  values: T,
  given: Json | undefined,
): keyof T | undefined {
  if (typeof given === 'string' && given in values) return given as keyof T;
  if (typeof given === 'number') {
    return (Object.keys(values) as (keyof T)[]).find((k) => values[k] === given);
  }
  return undefined;
}

export interface VersionRecord {
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N */
  name: string;
  id: number;
  state: VersionState;
  createTime: string;
  destroyTime?: string;
  destroyEventTime?: string;
  /** The AES-256 key material, never served. */
  material: Buffer;
}

export interface KeyRecord {
  name: string;
  /** Random; every ciphertext carries it, so one key's ciphertext fails on another's. */
  uid: Buffer;
  purpose: string;
  createTime: string;
  labels: Record<string, string>;
  primaryId: number | undefined;
  versions: Map<number, VersionRecord>;
  nextVersion: number;
}

export interface KeyRingRecord {
  name: string;
  createTime: string;
}

const enumOut = (numeric: boolean, name: string, number: number): Json => (numeric ? number : name);

export function versionJson(v: VersionRecord, numeric: boolean): JsonObject {
  return {
    name: v.name,
    state: enumOut(numeric, v.state, VersionStates[v.state]),
    protectionLevel: enumOut(numeric, 'SOFTWARE', SOFTWARE),
    algorithm: enumOut(numeric, 'GOOGLE_SYMMETRIC_ENCRYPTION', GOOGLE_SYMMETRIC_ENCRYPTION),
    createTime: v.createTime,
    generateTime: v.createTime,
    ...(v.destroyTime ? { destroyTime: v.destroyTime } : {}),
    ...(v.destroyEventTime ? { destroyEventTime: v.destroyEventTime } : {}),
  };
}

export function keyJson(k: KeyRecord, numeric: boolean): JsonObject {
  const primary = k.primaryId === undefined ? undefined : k.versions.get(k.primaryId);
  return {
    name: k.name,
    ...(primary ? { primary: versionJson(primary, numeric) } : {}),
    purpose: enumOut(numeric, k.purpose, Purposes[k.purpose as keyof typeof Purposes] ?? 0),
    createTime: k.createTime,
    versionTemplate: {
      protectionLevel: enumOut(numeric, 'SOFTWARE', SOFTWARE),
      algorithm: enumOut(numeric, 'GOOGLE_SYMMETRIC_ENCRYPTION', GOOGLE_SYMMETRIC_ENCRYPTION),
    },
    ...(Object.keys(k.labels).length > 0 ? { labels: k.labels } : {}),
    destroyScheduledDuration: '2592000s',
  };
}

export function protectionLevel(numeric: boolean): Json {
  return enumOut(numeric, 'SOFTWARE', SOFTWARE);
}
