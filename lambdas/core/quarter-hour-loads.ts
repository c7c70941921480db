// A node's 15-minute mean load (kW), read from its raw samples through the TelemetryStore port: the one place to
// switch to the 15-minute rollups once they exist. A VEN's load is `usedPowerKw` (readings during an event, which
// carry its `eventId`, are left out: the event held load off); a DER asset's is its `mw` × 1000 (signed as it reports:
// positive = discharge/export); a site's is the sum of its assets' in each slot where each of them has a reading.
import { DER_SERIES } from './der.js';
import { slotOf, type QuarterHourLoads } from './forecast.js';
import type { SeriesQuery, TelemetryStore } from './ports.js';
import { inParallel } from './rule-batch.js';

export interface LoadNode {
  readonly kind: 'ven' | 'asset';
  readonly id: string;
}

const CHUNK_MS = 6 * 3_600_000;
/**
 * Samples read per 6-hour chunk at most, newest first: all of a device reporting every 10 s or slower. A faster one has
 * only the chunk's last part read (its earlier slots then fall back in the forecast) until rollups replace this reader.
 */
const MAX_CHUNK_SAMPLES = 2160;
const CHUNK_CONCURRENCY = 8;

const loadOf: Record<LoadNode['kind'], { series: SeriesQuery['series']; kw: (m: Record<string, unknown>) => number | undefined }> = {
  ven: { series: 'ven_telemetry', kw: (m) => (typeof m.usedPowerKw === 'number' && m.eventId === undefined ? m.usedPowerKw : undefined) },
  asset: { series: DER_SERIES, kw: (m) => (typeof m.mw === 'number' ? m.mw * 1000 : undefined) },
};

/** Slot start → mean kW of the node's readings in [from, to) (from rounded down to a slot). */
export async function quarterHourLoads(telemetry: TelemetryStore, node: LoadNode, from: number, to: number): Promise<Map<number, number>> {
  const { series, kw } = loadOf[node.kind];
  const sums = new Map<number, { sum: number; n: number }>();
  const chunks: number[] = [];
  for (let t = slotOf(from); t < to; t += CHUNK_MS) chunks.push(t);
  await inParallel(chunks, CHUNK_CONCURRENCY, async (start) => {
    let read = 0;
    let next: string | undefined;
    do {
      const end = Math.min(to, start + CHUNK_MS) - 1;
      const page = await telemetry.query({ series, deviceId: node.id, start, end, limit: 1000, ...(next && { next }) });
      for (const r of page.items) {
        const value = kw(r.measures);
        if (value === undefined) continue;
        const slot = sums.get(slotOf(r.time)) ?? { sum: 0, n: 0 };
        slot.sum += value;
        slot.n++;
        sums.set(slotOf(r.time), slot);
      }
      read += page.items.length;
      next = page.next;
    } while (next && read < MAX_CHUNK_SAMPLES);
  });
  return new Map([...sums].map(([t, { sum, n }]) => [t, sum / n]));
}

/** A site's load: its assets' summed, in the slots where every asset that has readings in [from, to) has one. */
export async function siteLoads(telemetry: TelemetryStore, assetIds: readonly string[], from: number, to: number): Promise<QuarterHourLoads> {
  const perAsset = (await Promise.all(assetIds.map((id) => quarterHourLoads(telemetry, { kind: 'asset', id }, from, to)))).filter((m) => m.size > 0);
  const out = new Map<number, number>();
  for (const t of perAsset[0]?.keys() ?? []) {
    if (perAsset.every((m) => m.has(t))) out.set(t, perAsset.reduce((s, m) => s + m.get(t)!, 0));
  }
  return out;
}
