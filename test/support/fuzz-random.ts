/**
 * A small seeded PRNG (mulberry32) and the draws a fuzz test needs: the
 * same seed gives the same sequence, so a failing run replays exactly.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((sum, [w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [w, value] of items) {
      r -= w;
      if (r < 0) return value;
    }
    return items[items.length - 1]![1];
  }

  /** Lowercase letters and digits, as ids and DNS labels allow. */
  label(length: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }

  /** A new generator whose sequence depends only on this one's seed and `salt`. */
  fork(salt: number): Random {
    return new Random((Math.imul(this.seed ^ 0x9e3779b9, 2654435761) + salt * 0x85ebca6b) >>> 0);
  }
}

/** The seed from LIFEBOAT_FUZZ_SEED (decimal or 0x hex), or a random one. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env['LIFEBOAT_FUZZ_SEED'];
  if (given !== undefined && given.trim() !== '') {
    const seed = Number(given.trim());
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`LIFEBOAT_FUZZ_SEED must be an integer in [0, 4294967295], got "${given}"`);
    }
    return seed;
  }
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}
