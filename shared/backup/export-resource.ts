import { Layout } from '../catalog/layout.js';
import { PermanentError } from '../errors.js';
import { encodePack, encodeRecord, PACK_CUT_BYTES, type EncodedRecord } from '../catalog/pack.js';
import type { PackEntry } from '../catalog/catalog-schema.js';
import { secretIdentity, type Sealer } from '../crypto/sealer.js';
import type { ResourceRef } from '../messages/backup.js';
import type { BackupFilters } from '../messages/common.js';
import type { ObjectStore } from '../store/object-store.js';
import { EXCLUDE_LABEL, selected, volumeSelected } from '../kube/filters.js';
import type { KubeHttp } from '../kube/kube-http.js';
import { listPages, objectKey, type ListPosition } from '../kube/list-pages.js';
import { sanitizeInPlace, type KubeObject } from '../kube/sanitize.js';
import { isBuiltinGroup } from '../kube/builtin-groups.js';
import type { Deadline } from '../time/deadline.js';

/**
 * Average objects per pack; cut points depend on the objects only (their keys,
 * and their bytes since the last cut: content-defined chunking), so an
 * unchanged cluster makes the same packs.
 */
const PACK_TARGET = 512;
const PACK_MAX = 2048;

export interface ExportContext {
  http: KubeHttp;
  store: ObjectStore;
  filters: BackupFilters;
  /** Seals Secrets; without one a backup that meets a Secret fails rather than store it in plain text. */
  sealer?: Sealer;
  /** Packs known to be in the store (from the previous catalog): not uploaded again. */
  knownPacks: ReadonlySet<string>;
  pageSize?: number;
  onProgress?: (objects: number) => void;
  /** List at exactly this revision while it lasts (the plan's). */
  revision?: string;
  /** List namespaced resources in these namespaces only (the plan's); absent: cluster-wide. */
  namespaces?: readonly string[];
}

export interface ExportResult {
  packs: PackEntry[];
  objects: number;
  secrets: number;
  uploadedBytes: number;
  /** Set when the time budget ran out first: where the next invocation carries on. */
  next?: ListPosition;
  /** With a revision asked: whether every page was listed at it. */
  atRevision?: boolean;
}

/** FNV-1a: a cheap, stable hash of an object's key; cut points need no cryptography. */
function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function isCut(key: string, count: number, bytes: number): boolean {
  if (count >= PACK_MAX || bytes >= PACK_CUT_BYTES) return true;
  return keyHash(key) % PACK_TARGET === 0;
}

/** Whether the namespace an object belongs to is taken: its own, a Namespace's name, a PV's claim's. */
function inNamespaces(obj: KubeObject, filters: BackupFilters): boolean {
  if (obj.kind === 'PersistentVolume') {
    const spec = obj['spec'] as { claimRef?: { namespace?: string } } | undefined;
    return volumeSelected(spec?.claimRef?.namespace, filters);
  }
  const ns = obj.kind === 'Namespace' ? obj.metadata.name : obj.metadata.namespace;
  return ns === undefined || selected(ns, filters.includeNamespaces, filters.excludeNamespaces);
}

/**
 * Whether an object is a Secret: listed from the core `secrets` resource, or
 * saying so itself, whatever the shard's kind. Such an object is only ever stored sealed.
 */
export function isSecret(ref: ResourceRef, obj: KubeObject): boolean {
  return isSecretsResource(ref) || obj.kind === 'Secret';
}

/** The core resource that lists Secrets. */
export function isSecretsResource(ref: ResourceRef): boolean {
  return ref.group === '' && (ref.resource === 'secrets' || ref.kind === 'Secret');
}

function toRecord(
  ref: ResourceRef,
  obj: KubeObject,
  secret: boolean,
  sealer: Sealer | undefined,
): EncodedRecord {
  const controller = obj.metadata.ownerReferences?.find((o) => o.controller);
  const rv: unknown = obj.metadata.resourceVersion;
  const resourceVersion = typeof rv === 'string' ? rv : undefined;
  // A custom resource's status is its operator's real state; restore puts it back.
  const object = sanitizeInPlace(obj, { keepStatus: !isBuiltinGroup(ref.group) });
  const base = {
    group: ref.group,
    version: ref.version,
    resource: ref.resource,
    kind: ref.kind,
    namespaced: ref.namespaced,
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
    name: object.metadata.name,
    ...(controller ? { owner: { kind: controller.kind, name: controller.name } } : {}),
    ...(resourceVersion ? { resourceVersion } : {}),
  };
  if (secret) {
    if (!sealer) {
      throw new PermanentError(
        'Secrets found but no encryption key is configured (set LIFEBOAT_KEY_FILE or LIFEBOAT_KMS_KEY, or exclude secrets)',
      );
    }
    const identity = secretIdentity(object.metadata.namespace, object.metadata.name);
    return encodeRecord(base, {
      sealed: sealer.seal(Buffer.from(JSON.stringify(object)), identity),
    });
  }
  return encodeRecord(base, { object });
}

/**
 * Exports one resource: streams its LIST, sanitises and (for Secrets) seals
 * each object, groups them into content-addressed packs and uploads only
 * packs the store does not have. Stops early, returning where it got to,
 * when `deadline` passes, so one invocation never nears the time limit.
 */
export async function exportResource(
  ctx: ExportContext,
  ref: ResourceRef,
  options: { start?: ListPosition; deadline?: Deadline; shardId: string },
): Promise<ExportResult> {
  const result: ExportResult = { packs: [], objects: 0, secrets: 0, uploadedBytes: 0 };
  let batch: EncodedRecord[] = [];
  let batchBytes = 0;
  // Packs are encoded and uploaded while the next page is processed; at most two in flight.
  const inFlight: Promise<void>[] = [];
  const upload = async (records: EncodedRecord[], index: number): Promise<void> => {
    const pack = await encodePack(ref, records);
    if (!ctx.knownPacks.has(pack.digest)) {
      const key = Layout.pack(pack.digest);
      if (!(await ctx.store.createIfAbsent(key, pack.gzipped))) {
        // It exists but the base catalog does not list it: it may be a pack nothing references,
        // old enough for a sweep to collect. Touched, it is young again, and the sweep's grace
        // keeps it until this shard's part references it.
        await ctx.store.touch(key);
      } else result.uploadedBytes += pack.gzipped.length;
    }
    result.packs[index] = {
      digest: pack.digest,
      bytes: pack.gzipped.length,
      objects: pack.objects,
      shardId: options.shardId,
      resource: ref,
    };
  };
  let packIndex = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const work = upload(batch, packIndex++);
    work.catch(() => undefined); // observed here, rethrown where awaited
    batch = [];
    batchBytes = 0;
    inFlight.push(work);
    if (inFlight.length >= 2) await inFlight.shift();
  };
  const drain = async (): Promise<void> => {
    await flush();
    await Promise.all(inFlight.splice(0));
  };

  // Namespace by namespace when the plan chose so, resuming in the namespace a segment stopped in.
  const scopes: (string | undefined)[] =
    ref.namespaced && ctx.namespaces ? [...ctx.namespaces] : [undefined];
  const resumeAt = options.start?.namespace;
  const first = resumeAt !== undefined ? Math.max(0, scopes.indexOf(resumeAt)) : 0;
  let atRevision = options.start?.atRevision !== false;
  for (let i = first; i < scopes.length; i++) {
    const namespace = scopes[i];
    const start = i === first && resumeAt === namespace ? options.start : undefined;
    const pages = listPages(ctx.http, ref, {
      limit: ctx.pageSize ?? 500,
      labelSelector: ctx.filters.labelSelector,
      ...(start ? { start } : {}),
      ...(ctx.revision !== undefined ? { revision: ctx.revision } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
    });
    for await (const { items, position } of pages) {
      if (position.atRevision === false) atRevision = false;
      for (const obj of items) {
        // LIST items carry no apiVersion and kind; the filters below need the kind.
        obj.apiVersion ??= ref.group ? `${ref.group}/${ref.version}` : ref.version;
        obj.kind ??= ref.kind;
        if (obj.metadata.deletionTimestamp) continue;
        if (obj.metadata.labels?.[EXCLUDE_LABEL] === 'true') continue;
        if (!inNamespaces(obj, ctx.filters)) continue;
        const secret = isSecret(ref, obj);
        const record = toRecord(ref, obj, secret, ctx.sealer);
        batch.push(record);
        batchBytes += record.line.length;
        result.objects += 1;
        if (secret) result.secrets += 1;
        if (isCut(objectKey(obj), batch.length, batchBytes)) await flush();
      }
      ctx.onProgress?.(result.objects);
      if (!options.deadline?.expired()) continue;
      // Out of time: hand over where the listing stands, or at the next namespace.
      const next: ListPosition | undefined = position.continueToken
        ? { ...position, atRevision }
        : i + 1 < scopes.length
          ? { namespace: scopes[i + 1]!, atRevision }
          : undefined;
      if (!next) continue;
      await drain();
      await pages.return(undefined);
      return { ...result, next, ...(ctx.revision !== undefined ? { atRevision } : {}) };
    }
  }
  if (ctx.revision !== undefined) result.atRevision = atRevision;
  await drain();
  return result;
}
