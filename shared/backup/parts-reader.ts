import { Layout } from '../catalog/layout.js';
import type { ClusterRef } from '../messages/common.js';
import { parseStoredJson, type ObjectStore } from '../store/object-store.js';
import { readPlan, type BackupPlan, type ManifestPart, type VolumePart } from './parts.js';

interface Known {
  plan: BackupPlan;
  parts: Map<string, ManifestPart | VolumePart>;
}

/**
 * Reads a backup's plan and parts, remembering what it read: plans and
 * parts are write-once, so an instance that is told of parts one by one
 * (emitCatalog, once per PartDone) reads each body once and only lists the
 * keys again, instead of reading every part on every message.
 */
export class PartsReader {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly store: ObjectStore,
    /** Backups remembered at once; the oldest is forgotten first. */
    private readonly capacity = 64,
  ) {}

  async read(
    cluster: ClusterRef,
    backupId: string,
  ): Promise<{ plan: BackupPlan; manifests: ManifestPart[]; volumes: VolumePart[] }> {
    const id = Layout.backupDir(cluster, backupId);
    let known = this.known.get(id);
    if (!known) {
      known = { plan: await readPlan(this.store, cluster, backupId), parts: new Map() };
      this.known.set(id, known);
      for (const old of this.known.keys()) {
        if (this.known.size <= this.capacity) break;
        this.known.delete(old);
      }
    }
    const prefix = Layout.partsPrefix(cluster, backupId);
    const fresh: string[] = [];
    for await (const info of this.store.list(prefix)) {
      const rest = info.key.slice(prefix.length);
      const isPart = rest.startsWith('manifests/') || rest.startsWith('volumes/');
      if (isPart && !known.parts.has(info.key)) fresh.push(info.key);
    }
    const parts = known.parts;
    await Promise.all(
      fresh.map(async (key) => {
        parts.set(
          key,
          parseStoredJson(await this.store.get(key), key) as ManifestPart | VolumePart,
        );
      }),
    );
    const manifests: ManifestPart[] = [];
    const volumes: VolumePart[] = [];
    for (const [key, part] of parts) {
      if (key.slice(prefix.length).startsWith('manifests/')) manifests.push(part as ManifestPart);
      else volumes.push(part as VolumePart);
    }
    manifests.sort((a, b) => a.shardId.localeCompare(b.shardId) || a.segment - b.segment);
    return { plan: known.plan, manifests, volumes };
  }
}
