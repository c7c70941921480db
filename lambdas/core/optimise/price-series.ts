// Generated prices for tests, benchmarks and demos: a week of 15-minute prices with a realistic daily shape (low at
// night, a morning shoulder, a midday dip, an evening peak; weekends flatter) and seeded noise. Pure.
import { SLOT_MINUTES } from './tariff.js';

export const SLOTS_PER_DAY = (24 * 60) / SLOT_MINUTES;

/** Deterministic numbers in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Price per kWh of a slot without noise; `day` 0 is a Monday. */
export function priceShape(day: number, slot: number): number {
  const hour = (slot * SLOT_MINUTES) / 60;
  const bump = (at: number, width: number) => Math.exp(-(((hour - at) / width) ** 2));
  const weekend = day % 7 >= 5;
  const peaks = weekend ? 0.06 * bump(8.5, 2) + 0.12 * bump(18.5, 2) : 0.1 * bump(8, 1.5) + 0.24 * bump(18.5, 1.8);
  // night floor, a daytime hump, the peaks, and solar's midday dip
  return 0.09 + 0.04 * bump(12, 5) + peaks - 0.05 * bump(13, 2.5);
}

/** `days` × 96 prices per kWh, the shape with ±`noise` relative noise, rounded to 0.1 of a cent. */
export function generatedPrices(seed: number, days = 7, noise = 0.15): number[][] {
  const rand = seeded(seed);
  return Array.from({ length: days }, (_, day) =>
    Array.from(
      { length: SLOTS_PER_DAY },
      (_, slot) => Math.round(priceShape(day, slot) * (1 + noise * (2 * rand() - 1)) * 1000) / 1000,
    ),
  );
}
