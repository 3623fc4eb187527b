import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32c } from '../../../shared/crypto/crc32c.js';
import { kmsClientOptions, type KmsClientOptions } from '../../../shared/crypto/kms-key-wrapper.js';
import {
  ApiFailure,
  isJsonObject,
  readRestCall,
  stringFields,
  type Json,
  type JsonObject,
} from '../google-json.js';
import { CallCounts, FaultQueue, LoopbackStandin, sendJson } from '../loopback-standin.js';
import {
  enumName,
  keyJson,
  protectionLevel,
  Purposes,
  versionJson,
  VersionStates,
  type KeyRecord,
  type KeyRingRecord,
  type VersionRecord,
} from './shapes.js';

export type { VersionState } from './shapes.js';

/** The API methods the stand-in serves, as counted by callCount. */
export const KmsMethods = [
  'keyRings.create',
  'keyRings.get',
  'cryptoKeys.create',
  'cryptoKeys.get',
  'cryptoKeys.encrypt',
  'cryptoKeys.decrypt',
  'cryptoKeys.updatePrimaryVersion',
  'cryptoKeyVersions.create',
  'cryptoKeyVersions.get',
  'cryptoKeyVersions.list',
  'cryptoKeyVersions.patch',
  'cryptoKeyVersions.destroy',
  'cryptoKeyVersions.restore',
  'unsupported',
] as const;
export type KmsMethod = (typeof KmsMethods)[number];

/** The IAM permission each method needs, as Cloud KMS names it in a denial. */
const PERMISSIONS: Record<Exclude<KmsMethod, 'unsupported'>, string> = {
  'keyRings.create': 'cloudkms.keyRings.create',
  'keyRings.get': 'cloudkms.keyRings.get',
  'cryptoKeys.create': 'cloudkms.cryptoKeys.create',
  'cryptoKeys.get': 'cloudkms.cryptoKeys.get',
  'cryptoKeys.encrypt': 'cloudkms.cryptoKeyVersions.useToEncrypt',
  'cryptoKeys.decrypt': 'cloudkms.cryptoKeyVersions.useToDecrypt',
  'cryptoKeys.updatePrimaryVersion': 'cloudkms.cryptoKeys.update',
  'cryptoKeyVersions.create': 'cloudkms.cryptoKeyVersions.create',
  'cryptoKeyVersions.get': 'cloudkms.cryptoKeyVersions.get',
  'cryptoKeyVersions.list': 'cloudkms.cryptoKeyVersions.list',
  'cryptoKeyVersions.patch': 'cloudkms.cryptoKeyVersions.update',
  'cryptoKeyVersions.destroy': 'cloudkms.cryptoKeyVersions.destroy',
  'cryptoKeyVersions.restore': 'cloudkms.cryptoKeyVersions.restore',
};

interface Route {
  method: KmsMethod;
  /** The resource the request is about (a parent for creates and lists). */
  resource: string;
  /** A key ring's parent (projects/P/locations/L), for keyRings.create. */
  location: string;
  ring?: string;
  key?: string;
  version?: string;
}

/** What an encrypt or a decrypt used: which version of which key. */
export interface KeyUse {
  method: 'encrypt' | 'decrypt';
  key: string;
  version: string;
}

const MAX_PLAINTEXT = 64 * 1024;
const UID_BYTES = 16;
const HEADER_BYTES = UID_BYTES + 4 + 12 + 16;
const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

/**
 * A Cloud KMS v1 stand-in on 127.0.0.1: key rings, symmetric
 * (ENCRYPT_DECRYPT) crypto keys and their versions, with the real REST
 * paths, request and response shapes, so the real `@google-cloud/kms`
 * KeyManagementServiceClient can be driven against it (there is no KMS
 * emulator).
 *
 * Served: keyRings create and get; cryptoKeys create, get, encrypt,
 * decrypt and updatePrimaryVersion; cryptoKeyVersions create, get, list,
 * patch (updateMask=state: ENABLED and DISABLED), destroy and restore.
 * Each version holds its own random AES-256 key; `encrypt` uses the primary
 * version (or the version named) and AES-256-GCM, and the ciphertext
 * records the key and the version, so `decrypt` uses that version and
 * answers FAILED_PRECONDITION when it is not ENABLED, as Cloud KMS does.
 * CRC32C checksums are checked and returned. Errors in Google's shape;
 * enums by name, or by number for `$alt=json;enum-encoding=int` (the REST
 * transport always asks for it). Anything else answers 404 and counts as
 * "unsupported".
 */
export class KmsStandin extends LoopbackStandin {
  private readonly rings = new Map<string, KeyRingRecord>();
  private readonly keys = new Map<string, KeyRecord>();
  private readonly counts = new CallCounts<KmsMethod>();
  private readonly faults = new FaultQueue<KmsMethod, 429 | 500 | 503>();
  private readonly denied = new Set<string>();
  /** Every request's method and path with query, in order: what the client really sent. */
  readonly requests: { method: KmsMethod; url: string }[] = [];
  /** Every successful encrypt and decrypt: the version it used. */
  readonly uses: KeyUse[] = [];

  private constructor() {
    super();
  }

  static start(): Promise<KmsStandin> {
    return new KmsStandin().listen();
  }

  /** Options that point the real client at this stand-in (see kmsClientOptions). */
  clientOptions(): KmsClientOptions {
    return kmsClientOptions(this.url);
  }

  // ---- faults, time and counts (what no API call can do) ----

  /** The next `count` requests (of `method`, or of any method) fail with `code` in Google's shape. */
  failNext(count: number, code: 429 | 500 | 503, method?: KmsMethod): void {
    this.faults.add(count, code, method);
  }

  /** Every request that needs `permission` (cloudkms.cryptoKeyVersions.useToDecrypt...) answers 403. */
  denyPermission(permission: string): void {
    this.denied.add(permission);
  }

  /** The 30 days of a scheduled destruction have passed: the version's material is gone. */
  finishDestruction(versionName: string): void {
    const version = this.findVersion(versionName);
    if (!version) throw new Error(`stand-in: no key version ${versionName}`);
    if (version.state !== 'DESTROY_SCHEDULED') {
      throw new Error(`stand-in: ${versionName} is ${version.state}, not DESTROY_SCHEDULED`);
    }
    version.state = 'DESTROYED';
    version.destroyEventTime = new Date().toISOString();
    version.material = Buffer.alloc(0);
  }

  clearFaults(): void {
    this.faults.clear();
    this.denied.clear();
  }

  /** Forgets every key ring, key, fault and count. */
  reset(): void {
    this.rings.clear();
    this.keys.clear();
    this.clearFaults();
    this.resetCounts();
  }

  callCount(method: KmsMethod): number {
    return this.counts.of(method);
  }

  resetCounts(): void {
    this.counts.clear();
    this.requests.length = 0;
    this.uses.length = 0;
  }

  // ---- HTTP ----

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { verb, url, body, numericEnums } = await readRestCall(req, this.url);
    const route = routeOf(verb, url.pathname);
    this.counts.add(route.method);
    this.requests.push({ method: route.method, url: `${url.pathname}${url.search}` });
    let status = 200;
    let payload: JsonObject;
    try {
      this.injectFault(route);
      payload = this.run(route, body, url.searchParams, numericEnums);
    } catch (error) {
      const failure = ApiFailure.of(error);
      status = failure.code;
      payload = failure.body();
    }
    sendJson(res, status, JSON.stringify(payload));
  }

  private injectFault(route: Route): void {
    const code = this.faults.take(route.method);
    if (code !== undefined) throw injected(code);
    if (route.method === 'unsupported') return;
    const permission = PERMISSIONS[route.method];
    if (this.denied.has(permission)) {
      throw new ApiFailure(
        403,
        `Permission '${permission}' denied on resource '${route.resource}' (or it may not exist).`,
      );
    }
  }

  private run(route: Route, body: Json, query: URLSearchParams, numeric: boolean): JsonObject {
    switch (route.method) {
      case 'keyRings.create':
        return this.createRing(route, query);
      case 'keyRings.get': {
        const ring = this.ring(route.resource);
        return { name: ring.name, createTime: ring.createTime };
      }
      case 'cryptoKeys.create':
        return keyJson(this.createKey(route, body, query), numeric);
      case 'cryptoKeys.get':
        return keyJson(this.key(route.resource), numeric);
      case 'cryptoKeys.encrypt':
        return this.encrypt(route, body, numeric);
      case 'cryptoKeys.decrypt':
        return this.decrypt(route, body, numeric);
      case 'cryptoKeys.updatePrimaryVersion':
        return keyJson(this.updatePrimary(route, body), numeric);
      case 'cryptoKeyVersions.create':
        return versionJson(this.newVersion(this.key(route.resource)), numeric);
      case 'cryptoKeyVersions.get':
        return versionJson(this.version(route.resource), numeric);
      case 'cryptoKeyVersions.list': {
        const versions = [...this.key(route.resource).versions.values()];
        // Empty lists are omitted in proto3 JSON.
        return {
          ...(versions.length > 0
            ? { cryptoKeyVersions: versions.map((v) => versionJson(v, numeric)) }
            : {}),
          totalSize: versions.length,
        };
      }
      case 'cryptoKeyVersions.patch':
        return versionJson(this.patchVersion(route, body, query), numeric);
      case 'cryptoKeyVersions.destroy':
        return versionJson(this.destroy(route), numeric);
      case 'cryptoKeyVersions.restore':
        return versionJson(this.restore(route), numeric);
      case 'unsupported':
        throw new ApiFailure(404, 'Method not found.');
    }
  }

  // ---- key rings, keys, versions ----

  private createRing(route: Route, query: URLSearchParams): JsonObject {
    const id = query.get('keyRingId') ?? '';
    if (!/^[a-zA-Z0-9_-]{1,63}$/.test(id)) {
      throw new ApiFailure(400, `Invalid value for field "key_ring_id": "${id}".`);
    }
    const name = `${route.location}/keyRings/${id}`;
    if (this.rings.has(name)) throw new ApiFailure(409, `KeyRing ${name} already exists.`);
    const ring = { name, createTime: new Date().toISOString() };
    this.rings.set(name, ring);
    return { name: ring.name, createTime: ring.createTime };
  }

  private createKey(route: Route, body: Json, query: URLSearchParams): KeyRecord {
    const ring = this.ring(route.resource);
    const id = query.get('cryptoKeyId') ?? '';
    if (!/^[a-zA-Z0-9_-]{1,63}$/.test(id)) {
      throw new ApiFailure(400, `Invalid value for field "crypto_key_id": "${id}".`);
    }
    const spec = isJsonObject(body) ? body : {};
    const purpose = enumName(Purposes, spec['purpose']);
    if (purpose !== 'ENCRYPT_DECRYPT') {
      throw new ApiFailure(
        400,
        `Invalid value for field "crypto_key.purpose": this stand-in serves ENCRYPT_DECRYPT keys only (got ${JSON.stringify(spec['purpose'] ?? null)}).`,
      );
    }
    const name = `${ring.name}/cryptoKeys/${id}`;
    if (this.keys.has(name)) throw new ApiFailure(409, `CryptoKey ${name} already exists.`);
    const key: KeyRecord = {
      name,
      uid: randomBytes(UID_BYTES),
      purpose,
      createTime: new Date().toISOString(),
      labels: isJsonObject(spec['labels']) ? stringFields(spec['labels']) : {},
      primaryId: undefined,
      versions: new Map(),
      nextVersion: 1,
    };
    this.keys.set(name, key);
    if (query.get('skipInitialVersionCreation') !== 'true') {
      key.primaryId = this.newVersion(key).id;
    }
    return key;
  }

  private newVersion(key: KeyRecord): VersionRecord {
    const id = key.nextVersion++;
    const version: VersionRecord = {
      name: `${key.name}/cryptoKeyVersions/${id}`,
      id,
      state: 'ENABLED',
      createTime: new Date().toISOString(),
      material: randomBytes(32),
    };
    key.versions.set(id, version);
    return version;
  }

  private updatePrimary(route: Route, body: Json): KeyRecord {
    const key = this.key(route.resource);
    const given = isJsonObject(body) ? body['cryptoKeyVersionId'] : undefined;
    const id = typeof given === 'string' && /^\d+$/.test(given) ? Number(given) : NaN;
    const version = key.versions.get(id);
    if (!version) {
      throw new ApiFailure(
        404,
        `CryptoKeyVersion ${key.name}/cryptoKeyVersions/${String(given ?? '')} not found.`,
      );
    }
    requireEnabled(version);
    key.primaryId = id;
    return key;
  }

  private patchVersion(route: Route, body: Json, query: URLSearchParams): VersionRecord {
    const version = this.version(route.resource);
    const mask = (query.get('updateMask') ?? '').split(',').filter((p) => p !== '');
    if (mask.length !== 1 || mask[0] !== 'state') {
      throw new ApiFailure(
        400,
        `Invalid value for field "update_mask": ${JSON.stringify(mask.join(','))}; only "state" can be updated.`,
      );
    }
    const state = enumName(VersionStates, isJsonObject(body) ? body['state'] : undefined);
    if (state !== 'ENABLED' && state !== 'DISABLED') {
      throw new ApiFailure(
        400,
        `Invalid value for field "crypto_key_version.state": a version can only be set ENABLED or DISABLED.`,
      );
    }
    if (version.state !== 'ENABLED' && version.state !== 'DISABLED') {
      throw new ApiFailure(
        400,
        `${version.name} is not enabled or disabled, current state is: ${version.state}.`,
        { status: 'FAILED_PRECONDITION' },
      );
    }
    version.state = state;
    return version;
  }

  private destroy(route: Route): VersionRecord {
    const version = this.version(route.resource);
    if (version.state !== 'ENABLED' && version.state !== 'DISABLED') {
      throw new ApiFailure(
        400,
        `${version.name} is not enabled or disabled, current state is: ${version.state}.`,
        { status: 'FAILED_PRECONDITION' },
      );
    }
    version.state = 'DESTROY_SCHEDULED';
    version.destroyTime = new Date(Date.now() + THIRTY_DAYS_MS).toISOString();
    return version;
  }

  private restore(route: Route): VersionRecord {
    const version = this.version(route.resource);
    if (version.state !== 'DESTROY_SCHEDULED') {
      throw new ApiFailure(
        400,
        `${version.name} is not scheduled for destruction, current state is: ${version.state}.`,
        { status: 'FAILED_PRECONDITION' },
      );
    }
    version.state = 'DISABLED';
    delete version.destroyTime;
    return version;
  }

  // ---- encrypt and decrypt ----

  private encrypt(route: Route, body: Json, numeric: boolean): JsonObject {
    const request = isJsonObject(body) ? body : {};
    const key = this.key(route.key ?? route.resource);
    let version: VersionRecord;
    if (route.version !== undefined) {
      version = this.version(route.resource);
    } else {
      if (key.primaryId === undefined) {
        throw new ApiFailure(400, `${key.name} has no primary version.`, {
          status: 'FAILED_PRECONDITION',
        });
      }
      version = key.versions.get(key.primaryId)!;
    }
    const plaintext = bytesField(request, 'plaintext');
    if (plaintext.length > MAX_PLAINTEXT) {
      throw new ApiFailure(
        400,
        `The plaintext is ${plaintext.length} bytes; at most ${MAX_PLAINTEXT} are allowed.`,
      );
    }
    const aad = bytesField(request, 'additionalAuthenticatedData');
    const verifiedPlaintext = checkCrc(request, 'plaintextCrc32c', plaintext);
    const verifiedAad = checkCrc(request, 'additionalAuthenticatedDataCrc32c', aad);
    requireEnabled(version);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', version.material, iv);
    cipher.setAAD(aad);
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(version.id);
    const ciphertext = Buffer.concat([key.uid, id, iv, cipher.getAuthTag(), sealed]);
    this.uses.push({ method: 'encrypt', key: key.name, version: version.name });
    return {
      name: version.name,
      ciphertext: ciphertext.toString('base64'),
      ciphertextCrc32c: String(crc32c(ciphertext)),
      ...(verifiedPlaintext ? { verifiedPlaintextCrc32c: true } : {}),
      ...(verifiedAad ? { verifiedAdditionalAuthenticatedDataCrc32c: true } : {}),
      protectionLevel: protectionLevel(numeric),
    };
  }

  private decrypt(route: Route, body: Json, numeric: boolean): JsonObject {
    const request = isJsonObject(body) ? body : {};
    const key = this.key(route.resource);
    const ciphertext = bytesField(request, 'ciphertext');
    const aad = bytesField(request, 'additionalAuthenticatedData');
    checkCrc(request, 'ciphertextCrc32c', ciphertext);
    checkCrc(request, 'additionalAuthenticatedDataCrc32c', aad);
    const wrongKey = new ApiFailure(
      400,
      "Decryption failed: verify that 'name' refers to the correct CryptoKey.",
    );
    if (ciphertext.length < HEADER_BYTES || !ciphertext.subarray(0, UID_BYTES).equals(key.uid)) {
      throw wrongKey;
    }
    const version = key.versions.get(ciphertext.readUInt32BE(UID_BYTES));
    if (!version) throw wrongKey;
    requireEnabled(version);
    let plaintext: Buffer;
    try {
      const at = UID_BYTES + 4;
      const decipher = createDecipheriv(
        'aes-256-gcm',
        version.material,
        ciphertext.subarray(at, at + 12),
      );
      decipher.setAAD(aad);
      decipher.setAuthTag(ciphertext.subarray(at + 12, HEADER_BYTES));
      plaintext = Buffer.concat([
        decipher.update(ciphertext.subarray(HEADER_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw wrongKey;
    }
    this.uses.push({ method: 'decrypt', key: key.name, version: version.name });
    return {
      plaintext: plaintext.toString('base64'),
      plaintextCrc32c: String(crc32c(plaintext)),
      ...(version.id === key.primaryId ? { usedPrimary: true } : {}),
      protectionLevel: protectionLevel(numeric),
    };
  }

  // ---- lookups ----

  private ring(name: string): KeyRingRecord {
    const ring = this.rings.get(name);
    if (!ring) throw new ApiFailure(404, `KeyRing ${name} not found.`);
    return ring;
  }

  private key(name: string): KeyRecord {
    const key = this.keys.get(name);
    if (!key) throw new ApiFailure(404, `CryptoKey ${name} not found.`);
    return key;
  }

  private version(name: string): VersionRecord {
    const version = this.findVersion(name);
    if (!version) throw new ApiFailure(404, `CryptoKeyVersion ${name} not found.`);
    return version;
  }

  private findVersion(name: string): VersionRecord | undefined {
    const m = /^(.*)\/cryptoKeyVersions\/(\d+)$/.exec(name);
    if (!m) return undefined;
    return this.keys.get(m[1]!)?.versions.get(Number(m[2]));
  }
}

function requireEnabled(version: VersionRecord): void {
  if (version.state !== 'ENABLED') {
    throw new ApiFailure(
      400,
      `${version.name} is not enabled, current state is: ${version.state}.`,
      { status: 'FAILED_PRECONDITION' },
    );
  }
}

/** A base64 bytes field of a request (absent: empty, as proto3 has it). */
function bytesField(request: JsonObject, field: string): Buffer {
  const value = request[field];
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (typeof value !== 'string') {
    throw new ApiFailure(400, `Invalid value at '${field}': expected base64 bytes.`);
  }
  return Buffer.from(value, 'base64');
}

/** The proto field names a checksum error names. */
const CHECKSUMMED: Record<string, [string, string]> = {
  plaintextCrc32c: ['plaintext_crc32c', 'plaintext'],
  ciphertextCrc32c: ['ciphertext_crc32c', 'ciphertext'],
  additionalAuthenticatedDataCrc32c: [
    'additional_authenticated_data_crc32c',
    'additional_authenticated_data',
  ],
};

/** Checks a request's optional CRC32C (an int64 wrapper: a string) of `data`; true when given and matching. */
function checkCrc(request: JsonObject, field: keyof typeof CHECKSUMMED, data: Buffer): boolean {
  const given = request[field];
  if (given === undefined || given === null) return false;
  if (Number(given) !== crc32c(data)) {
    const [checksum, bytes] = CHECKSUMMED[field]!;
    throw new ApiFailure(
      400,
      `The checksum in field ${checksum} did not match the data in field ${bytes}.`,
    );
  }
  return true;
}

const SEGMENT = '([^/:]+)';
const PATH = new RegExp(
  `^/v1/projects/${SEGMENT}/locations/${SEGMENT}/keyRings` +
    `(?:/${SEGMENT}(?:/cryptoKeys(?:/${SEGMENT}(?::(\\w+)|/cryptoKeyVersions(?:/${SEGMENT}(?::(\\w+))?)?)?)?)?)?$`,
);

function routeOf(verb: string, rawPath: string): Route {
  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPath);
  } catch {
    pathname = rawPath;
  }
  const m = PATH.exec(pathname);
  if (!m) return { method: 'unsupported', resource: '', location: '' };
  const [, project, location, ring, key, keyVerb, version, versionVerb] = m;
  const loc = `projects/${project}/locations/${location}`;
  const ringName = ring === undefined ? undefined : `${loc}/keyRings/${ring}`;
  const keyName = key === undefined ? undefined : `${ringName}/cryptoKeys/${key}`;
  const versionName = version === undefined ? undefined : `${keyName}/cryptoKeyVersions/${version}`;
  const route = (method: KmsMethod, resource: string): Route => ({
    method,
    resource,
    location: loc,
    ...(ring === undefined ? {} : { ring }),
    ...(keyName === undefined ? {} : { key: keyName }),
    ...(version === undefined ? {} : { version }),
  });
  const unsupported = route('unsupported', pathname);
  if (ringName === undefined) return verb === 'POST' ? route('keyRings.create', loc) : unsupported;
  if (!pathname.includes('/cryptoKeys')) {
    return verb === 'GET' ? route('keyRings.get', ringName) : unsupported;
  }
  if (keyName === undefined) {
    return verb === 'POST' ? route('cryptoKeys.create', ringName) : unsupported;
  }
  if (keyVerb !== undefined) {
    if (verb !== 'POST') return unsupported;
    if (keyVerb === 'encrypt') return route('cryptoKeys.encrypt', keyName);
    if (keyVerb === 'decrypt') return route('cryptoKeys.decrypt', keyName);
    if (keyVerb === 'updatePrimaryVersion')
      return route('cryptoKeys.updatePrimaryVersion', keyName);
    return unsupported;
  }
  if (!pathname.includes('/cryptoKeyVersions')) {
    return verb === 'GET' ? route('cryptoKeys.get', keyName) : unsupported;
  }
  if (versionName === undefined) {
    if (verb === 'POST') return route('cryptoKeyVersions.create', keyName);
    if (verb === 'GET') return route('cryptoKeyVersions.list', keyName);
    return unsupported;
  }
  if (versionVerb !== undefined) {
    if (verb !== 'POST') return unsupported;
    // cryptoKeys/**:encrypt: a version's name encrypts with that version.
    if (versionVerb === 'encrypt') return route('cryptoKeys.encrypt', versionName);
    if (versionVerb === 'destroy') return route('cryptoKeyVersions.destroy', versionName);
    if (versionVerb === 'restore') return route('cryptoKeyVersions.restore', versionName);
    return unsupported;
  }
  if (verb === 'GET') return route('cryptoKeyVersions.get', versionName);
  if (verb === 'PATCH') return route('cryptoKeyVersions.patch', versionName);
  return unsupported;
}

function injected(code: 429 | 500 | 503): ApiFailure {
  switch (code) {
    case 429:
      return new ApiFailure(
        429,
        "Quota exceeded for quota metric 'Cryptographic requests' and limit 'Cryptographic requests per minute' of service 'cloudkms.googleapis.com'.",
      );
    case 503:
      return new ApiFailure(503, 'The service is currently unavailable.');
    default:
      return new ApiFailure(500, 'Internal error encountered.');
  }
}
