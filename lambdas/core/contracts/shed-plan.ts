// Which loads a VEN sheds for a requested kW: one rule, run by the VEN agent (device/panel.ts) when an event comes
// and by the fleet allocation (allocation.ts) to know what each VEN will actually shed for the kW it is given.
//
// Non-critical loads drawing power, in shed order (highest priority number first; ties: larger draw, then id).
// Pass 1 takes every load that still fits under the request, skipping one that would overshoot. When that leaves the
// request unmet by more than MET_TOLERANCE, pass 2 adds the smallest skipped load: at most one load past the request.

/** A request counts as met when at most this fraction of it is left (readings drift between plan and command). */
export const MET_TOLERANCE = 0.05;

export interface ShedCandidate {
  readonly id: string;
  readonly name?: string;
  readonly priority: number;
  readonly critical?: boolean;
  readonly powerKw: number;
}

export interface ShedPlan {
  readonly circuits: { loadId: string; name: string; shedKw: number }[];
  readonly totalKw: number;
  /** Everything non-critical that draws power: what the VEN could shed at most. */
  readonly availableKw: number;
}

/** To the watt, as the allocation counts. */
const round3 = (kw: number) => Math.round(kw * 1000) / 1000;

export function shedOrder<T extends ShedCandidate>(candidates: readonly T[]): T[] {
  return candidates
    .filter((c) => !c.critical && c.powerKw > 0)
    .sort((a, b) => b.priority - a.priority || b.powerKw - a.powerKw || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function planShed(candidates: readonly ShedCandidate[], requestedKw: number): ShedPlan {
  const order = shedOrder(candidates);
  const taken: ShedCandidate[] = [];
  const skipped: ShedCandidate[] = [];
  let total = 0;
  for (const c of order) {
    if (round3(total + c.powerKw) <= requestedKw) {
      taken.push(c);
      total += c.powerKw;
    } else skipped.push(c);
  }
  if (requestedKw > 0 && round3(total) < requestedKw * (1 - MET_TOLERANCE) && skipped.length > 0) {
    const smallest = skipped.reduce((s, c) => (c.powerKw < s.powerKw ? c : s));
    taken.push(smallest);
    total += smallest.powerKw;
  }
  const circuits = order
    .filter((c) => taken.includes(c))
    .map((c) => ({ loadId: c.id, name: c.name ?? c.id, shedKw: round3(c.powerKw) }));
  return { circuits, totalKw: round3(total), availableKw: round3(order.reduce((s, c) => s + c.powerKw, 0)) };
}
