// What a VEN's sheddable load is expected to give over an event window: its load forecast there (forecast.ts) over
// its load now, capped to 1 ± SHED_FACTOR_CAP. A VEN with no reading in the weeks before the window (no profile to
// go on: a recent level alone says nothing of the window) or no load now keeps 1: its loads count as they draw now.
import { ADJUSTMENT_CAP } from './baseline.js';
import { forecastLoads, LEVEL_MS, meanLoad, PROFILE_WEEKS, SLOT_MS, slotOf, WEEK_MS } from './forecast.js';
import type { Device, TelemetryStore } from './ports.js';
import { quarterHourLoads } from './quarter-hour-loads.js';
import { inParallel } from './rule-batch.js';

export const SHED_FACTOR_CAP = ADJUSTMENT_CAP;
/** The window forecast at most: its first 4 h (a longer event is planned on those). */
const MAX_WINDOW_SLOTS = 16;
const VEN_CONCURRENCY = 16;

/**
 * Reads, per VEN, the same window (and the 3 h before it) on each of the last PROFILE_WEEKS weeks, then the last 3 h
 * only if there was any: at most 5 windows of 7 h. VENs in parallel, VEN_CONCURRENCY at a time.
 */
export async function shedFactors(telemetry: TelemetryStore, vens: readonly Device[], now: number, durationSec: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await inParallel(vens, VEN_CONCURRENCY, async (ven) => {
    out.set(ven.deviceId, await shedFactor(telemetry, ven, now, durationSec));
  });
  return out;
}

async function shedFactor(telemetry: TelemetryStore, ven: Device, now: number, durationSec: number): Promise<number> {
  const current = ven.latest?.usedPowerKw;
  if (typeof current !== 'number' || current <= 0) return 1;
  const origin = slotOf(now);
  const slots = Math.min(MAX_WINDOW_SLOTS, Math.ceil((now + durationSec * 1000 - origin) / SLOT_MS));
  const read = (back: number, from: number, to: number) => quarterHourLoads(telemetry, { kind: 'ven', id: ven.deviceId }, from - back, to - back);
  const weeks = await Promise.all(
    Array.from({ length: PROFILE_WEEKS }, (_, k) => read((k + 1) * WEEK_MS, origin - LEVEL_MS, origin + slots * SLOT_MS)),
  );
  if (weeks.every((w) => w.size === 0)) return 1;
  const recent = await read(0, origin - LEVEL_MS, origin);
  const forecast = forecastLoads(new Map([...weeks.flatMap((w) => [...w]), ...recent]), origin, slots);
  if (!forecast.points.some((p) => p.source !== 'level')) return 1;
  const ratio = meanLoad(forecast)! / current;
  return Math.min(1 + SHED_FACTOR_CAP, Math.max(1 - SHED_FACTOR_CAP, ratio));
}
