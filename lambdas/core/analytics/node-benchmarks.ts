// How a node compares with its peers (nodes of the same type) over a window of whole UTC days, from their daily
// rollups: load factor (mean kW / peak 15-minute kW), availability (hours online / hours in the window) and shed
// delivered / shed committed (fleet DR allocations × their overlap with the window), each with the node's
// percentile rank among the peers that have a value. Pure.
import { kw } from './baseline.js';
import { combine, type RollupRow } from './rollups.js';

export interface NodeMetrics {
  readonly load_factor: number | null;
  readonly availability: number | null;
  readonly shed_delivered_ratio: number | null;
}

/** A node's metrics from its daily rows in the window; `committedKwh` undefined: the node takes no DR events. */
export function nodeMetrics(
  days: readonly RollupRow[],
  windowHours: number,
  committedKwh: number | undefined,
): NodeMetrics {
  const total = days.length ? combine('1mo', days[0]!.start, days) : undefined;
  const mean = total && total.intervals ? total.kwSum / total.intervals : undefined;
  const delivered = total?.shedKwh ?? 0;
  return {
    load_factor: mean !== undefined && total!.peakKw > 0 ? kw(mean / total!.peakKw) : null,
    availability: kw((total?.onlineHours ?? 0) / windowHours),
    shed_delivered_ratio: committedKwh ? kw(delivered / committedKwh) : null,
  };
}

/** What a commitment count needs of a fleet DR event (the event store's records have it). */
export interface Commitments {
  readonly startedAt: number;
  readonly endsAt: number;
  readonly allocations: readonly { readonly venId: string; readonly shed_kw: number }[];
}

/** kWh each VEN was allocated in fleet events, counted over the part of each event inside [from, to). */
export function committedKwh(events: readonly Commitments[], from: number, to: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) {
    const hours = Math.max(0, Math.min(e.endsAt, to) - Math.max(e.startedAt, from)) / 3_600_000;
    if (hours === 0) continue;
    for (const a of e.allocations) out.set(a.venId, (out.get(a.venId) ?? 0) + a.shed_kw * hours);
  }
  return out;
}

/** The share (0–100) of the values at or below `value`; null without a value. */
export function percentileRank(values: readonly (number | null)[], value: number | null): number | null {
  if (value === null) return null;
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.round((100 * known.filter((v) => v <= value).length) / known.length) : null;
}
