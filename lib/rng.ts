/**
 * One seed in, everything derived (STYLE 8). A small, fast, serialisable PRNG (xoshiro128**)
 * and `deriveSeed(seed, ...keys)` to give every component its own independent stream.
 * Never use Math.random in this project.
 */

/** 32-bit FNV-1a over a string, then the murmur3 finaliser for avalanche. */
function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seed for a named sub-stream: deriveSeed(7, 'data', 'train') is stable across runs and
 * platforms and independent of deriveSeed(7, 'data', 'val'). Returns a uint32.
 */
export function deriveSeed(seed: number, ...keys: (string | number)[]): number {
  if (!Number.isInteger(seed)) throw new Error(`deriveSeed: seed must be an integer, got ${seed}`);
  return hashString(JSON.stringify([seed, ...keys]));
}

export type RngState = [number, number, number, number];

export class Rng {
  private s = new Uint32Array(4);
  /** a cached second Box–Muller normal */
  private spare: number | null = null;

  constructor(seed: number) {
    // splitmix32 to fill the state from one 32-bit seed (never all zero).
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      this.s[i] = (z ^ (z >>> 15)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A uniform uint32 (xoshiro128**). */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`Rng.int: empty range [${lo}, ${hi}]`);
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  choice<T>(xs: ArrayLike<T>): T {
    if (xs.length === 0) throw new Error('Rng.choice: empty list');
    return xs[Math.floor(this.float() * xs.length)];
  }

  /** Index drawn with probability proportional to `weights` (non-negative, not all zero). */
  weighted(weights: ArrayLike<number>, offset = 0, length = weights.length - offset): number {
    let total = 0;
    for (let i = 0; i < length; i++) total += weights[offset + i];
    let u = this.float() * total;
    for (let i = 0; i < length; i++) {
      u -= weights[offset + i];
      if (u < 0) return i;
    }
    // Rounding: return the last index with positive weight.
    for (let i = length - 1; i >= 0; i--) if (weights[offset + i] > 0) return i;
    throw new Error('Rng.weighted: all weights are zero');
  }

  /** Fisher–Yates, in place; returns the array. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }

  /** The full state, for checkpoints (resume gives the same stream). */
  getState(): { s: RngState; spare: number | null } {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spare: this.spare };
  }

  setState(st: { s: RngState; spare: number | null }): void {
    this.s.set(st.s);
    this.spare = st.spare;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
