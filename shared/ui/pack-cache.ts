/**
 * Packs by digest, most recently used kept, bounded by their stored bytes.
 * Safe to keep across requests because a pack's content is its digest: the
 * same digest is always the same bytes (and every read still verifies them).
 */
export class PackCache {
  readonly #packs = new Map<string, Buffer>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  get(digest: string): Buffer | undefined {
    const pack = this.#packs.get(digest);
    if (pack) {
      // Re-inserted: a Map iterates in insertion order, so the first entry is the least recent.
      this.#packs.delete(digest);
      this.#packs.set(digest, pack);
    }
    return pack;
  }

  set(digest: string, pack: Buffer): void {
    if (pack.length > this.maxBytes || this.#packs.has(digest)) return;
    this.#packs.set(digest, pack);
    this.#bytes += pack.length;
    for (const [oldest, old] of this.#packs) {
      if (this.#bytes <= this.maxBytes) break;
      this.#packs.delete(oldest);
      this.#bytes -= old.length;
    }
  }

  get bytes(): number {
    return this.#bytes;
  }
}
