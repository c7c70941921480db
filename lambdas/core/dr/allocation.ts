// Splits a fleet shed request over VENs in whole loads, so that what the VENs shed adds up to the request.
//
// A VEN sheds whole circuits (shed-plan.ts), so a smooth kW split over-delivers: each VEN rounds its share up by a
// circuit. Instead the allocation plans with every VEN's sheddable loads and gives each VEN a kW that is exactly the
// sum of the loads it will shed for it. Greedy, knapsack-like:
//   1. Walk every load of the fleet in shed order (highest priority number first; ties: larger load, then venId)
//      and take each that still fits under the request. A VEN walks its loads in the same order, so given the sum
//      of what it was given here it takes the very same loads (a load skipped here exceeded what was left, which is
//      more than the VEN's later loads add up to).
//   2. Then at most one load past the request: the one landing closest, if that is closer than stopping short and
//      the VEN, asked for its kW plus that load, would shed exactly that (its rule, run here, decides).
// So the plan lands within half a load of the request whenever the fleet has enough, and never gives a VEN a kW it
// would overshoot. Works in whole watts. Deterministic.
// A VEN's `factor` (its forecast load over the event window ÷ its load now, shed-forecast.ts) says what a load drawing
// w kW now is expected to give over the window: the walk counts w × factor toward the request, while the VEN is still
// sent the sum of its loads' kW now, so that it picks those very loads (one factor per VEN keeps its own order).
import type { ShedAllocation } from './fleet-event-store.js';
import type { ShedTier } from '../fleet/shed-capability.js';
import { planShed } from '../contracts/shed-plan.js';

export interface ShedCandidate {
  readonly venId: string;
  /** Its sheddable loads (a VEN reporting tiers only: one per tier). */
  readonly loads: readonly ShedTier[];
  /** What each kW it draws now is expected to give over the event window; default 1. */
  readonly factor?: number;
}

export interface ShedPlan {
  /** By venId; VENs given nothing are left out. */
  readonly allocations: ShedAllocation[];
  /** What the allocations are expected to shed: their expected_kw (else shed_kw) summed. */
  readonly allocated_kw: number;
  /** What the request exceeds the allocation by (0 when the allocation lands past it). */
  readonly shortfall_kw: number;
}

interface Unit {
  readonly ven: number;
  readonly index: number;
  readonly priority: number;
  /** Watts drawn now, and expected over the window. */
  readonly w: number;
  readonly e: number;
}

const watts = (kw: number) => Math.round(kw * 1000);
const byVen = (a: { venId: string }, b: { venId: string }) => (a.venId < b.venId ? -1 : a.venId > b.venId ? 1 : 0);

export function allocateShed(requestedKw: number, candidates: readonly ShedCandidate[]): ShedPlan {
  const requested = watts(requestedKw);
  const vens = [...candidates].sort(byVen).map((c) => ({
    venId: c.venId,
    factor: c.factor ?? 1,
    loads: c.loads
      .filter((l) => watts(l.kw) > 0)
      .map((l, i) => ({ id: String(i).padStart(4, '0'), priority: l.priority, powerKw: l.kw })),
  }));
  const units: Unit[] = vens
    .flatMap((v, ven) =>
      v.loads.map((l, index) => ({
        ven,
        index,
        priority: l.priority,
        w: watts(l.powerKw),
        e: Math.round(watts(l.powerKw) * v.factor),
      })),
    )
    .sort((a, b) => b.priority - a.priority || b.e - a.e || a.ven - b.ven || a.index - b.index);
  const given = vens.map(() => 0);
  const expected = vens.map(() => 0);
  const taken = new Set<Unit>();
  let total = 0;
  /** The VEN, asked for its kW so far plus `u`, sheds exactly that. */
  const consistent = (u: Unit) =>
    watts(planShed(vens[u.ven]!.loads, (given[u.ven]! + u.w) / 1000).totalKw) === given[u.ven]! + u.w;
  const take = (u: Unit) => {
    taken.add(u);
    given[u.ven]! += u.w;
    expected[u.ven]! += u.e;
    total += u.e;
  };
  for (const u of units) if (total + u.e <= requested) take(u);
  let past: Unit | undefined;
  for (const u of units) {
    const over = total + u.e - requested;
    if (taken.has(u) || over >= requested - total || (past && over >= total + past.e - requested)) continue;
    if (consistent(u)) past = u;
  }
  if (past) take(past);
  const allocations = vens.flatMap((v, i) =>
    given[i]! > 0
      ? [{ venId: v.venId, shed_kw: given[i]! / 1000, ...(v.factor !== 1 && { expected_kw: expected[i]! / 1000 }) }]
      : [],
  );
  return { allocations, allocated_kw: total / 1000, shortfall_kw: Math.max(0, requested - total) / 1000 };
}
