// What a VEN's sheddable load is expected to give over an event window: its load forecast there (forecast.ts) over
// its load now, capped to 1 ± SHED_FACTOR_CAP. A VEN with no reading in that window a week ago (no profile to go on: a
// recent level alone says nothing of the window) or no load now keeps 1: its loads count as they draw now.
import { ADJUSTMENT_CAP } from '../analytics/baseline.js';
import { forecastLoads, LEVEL_MS, meanLoad, PROFILE_WEEKS, SLOT_MS, slotOf, WEEK_MS } from '../analytics/forecast.js';
import type { Device } from '../fleet/registry.js';
import { quarterHourLoads } from '../analytics/quarter-hour-loads.js';
import type { RollupStore } from '../analytics/rollups-dynamodb.js';
import { mapLimited } from '../common/map-limited.js';

export const SHED_FACTOR_CAP = ADJUSTMENT_CAP;
/** The window forecast at most: its first 4 h (a longer event is planned on those). */
const MAX_WINDOW_SLOTS = 16;
const VEN_CONCURRENCY = 32;

/**
 * Reads, per VEN, the window (and the 3 h before it) a week ago; only if there was a reading, the same on the three
 * weeks before and the last 3 h. VENs in parallel, VEN_CONCURRENCY at a time. A forecast is kept for the rest of its
 * 15-minute slot, so that a dry run and the event after it read once.
 */
export async function shedFactors(
  rollups: Pick<RollupStore, 'query'>,
  vens: readonly Device[],
  now: number,
  durationSec: number,
): Promise<Map<string, number>> {
  const origin = slotOf(now);
  const slots = Math.min(MAX_WINDOW_SLOTS, Math.ceil((now + durationSec * 1000 - origin) / SLOT_MS));
  if (caches.get(rollups)?.origin !== origin) caches.set(rollups, { origin, forecasts: new Map() });
  const { forecasts } = caches.get(rollups)!;
  const out = new Map<string, number>();
  await mapLimited(vens, VEN_CONCURRENCY, async (ven) => {
    const current = ven.latest?.usedPowerKw;
    if (typeof current !== 'number' || current <= 0) return void out.set(ven.deviceId, 1);
    const key = `${ven.deviceId}\u0000${slots}`;
    if (!forecasts.has(key)) forecasts.set(key, await windowForecast(rollups, ven.deviceId, origin, slots));
    const forecast = forecasts.get(key)!;
    out.set(
      ven.deviceId,
      forecast === null ? 1 : Math.min(1 + SHED_FACTOR_CAP, Math.max(1 - SHED_FACTOR_CAP, forecast / current)),
    );
  });
  return out;
}

/** Per store, this slot's window forecasts by VEN and window length. */
const caches = new WeakMap<object, { origin: number; forecasts: Map<string, number | null> }>();

/** The mean forecast load over the window's `slots` from `origin`; null without a profile to go on. */
async function windowForecast(
  rollups: Pick<RollupStore, 'query'>,
  venId: string,
  origin: number,
  slots: number,
): Promise<number | null> {
  const read = (back: number, from: number, to: number) =>
    quarterHourLoads(rollups, 'ven', venId, from - back, to - back);
  const week = (k: number) => read(k * WEEK_MS, origin - LEVEL_MS, origin + slots * SLOT_MS);
  const lastWeek = await week(1);
  if (lastWeek.size === 0) return null;
  const older = await Promise.all(Array.from({ length: PROFILE_WEEKS - 1 }, (_, k) => week(k + 2)));
  const recent = await read(0, origin - LEVEL_MS, origin);
  const forecast = forecastLoads(new Map([...[lastWeek, ...older].flatMap((w) => [...w]), ...recent]), origin, slots);
  return forecast.points.some((p) => p.source !== 'level') ? meanLoad(forecast) : null;
}
