// Seeded randomness: each simulated device is reproducible from its thing name.

export type Rng = () => number;

/** mulberry32: a small, fast 32-bit generator; values in [0, 1). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string, for seeds and timer phases. */
export function hashString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const rngFor = (name: string): Rng => seededRng(hashString(name));

/** `value` ± `fraction` of it. */
export const jitter = (rng: Rng, value: number, fraction: number): number => value * (1 + (rng() * 2 - 1) * fraction);

export const round = (value: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};
