// Splits a fleet shed request over VENs. Tier by tier, highest load priority first (the loads each VEN would shed
// first), a tier is taken whole while the request needs it; the tier that covers the rest is shared in proportion
// to each VEN's sheddable kW there. Works in whole watts with largest-remainder rounding, so the allocations sum to
// exactly min(requested, available) and the shortfall is the rest. Deterministic: ties go by venId.
import type { ShedAllocation } from './ports.js';
import type { ShedTier } from './shed-capability.js';

export interface ShedCandidate {
  readonly venId: string;
  readonly tiers: readonly ShedTier[];
}

export interface ShedPlan {
  /** By venId; VENs given nothing are left out. */
  readonly allocations: ShedAllocation[];
  readonly allocated_kw: number;
  readonly shortfall_kw: number;
}

const watts = (kw: number) => Math.round(kw * 1000);
const byVen = (a: { venId: string }, b: { venId: string }) => (a.venId < b.venId ? -1 : a.venId > b.venId ? 1 : 0);
const total = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);

export function allocateShed(requestedKw: number, candidates: readonly ShedCandidate[]): ShedPlan {
  const requested = watts(requestedKw);
  const given = new Map<string, number>();
  let remaining = requested;
  const priorities = [...new Set(candidates.flatMap((c) => c.tiers.map((t) => t.priority)))].sort((a, b) => b - a);
  for (const priority of priorities) {
    if (remaining <= 0) break;
    const tier = candidates
      .map((c) => ({ venId: c.venId, cap: watts(total(c.tiers.filter((t) => t.priority === priority).map((t) => t.kw))) }))
      .filter((t) => t.cap > 0)
      .sort(byVen);
    const capacity = total(tier.map((t) => t.cap));
    const shares = capacity <= remaining ? tier.map((t) => t.cap) : proportional(remaining, tier.map((t) => t.cap));
    tier.forEach((t, i) => given.set(t.venId, (given.get(t.venId) ?? 0) + shares[i]!));
    remaining -= total(shares);
  }
  const allocations = [...given]
    .filter(([, w]) => w > 0)
    .map(([venId, w]) => ({ venId, shed_kw: w / 1000 }))
    .sort(byVen);
  const allocated = total([...given.values()]);
  return { allocations, allocated_kw: allocated / 1000, shortfall_kw: (requested - allocated) / 1000 };
}

/** `amount` (< sum of caps) shared in proportion to `caps`, in whole units, largest remainders first. */
export function proportional(amount: number, caps: readonly number[]): number[] {
  const capacity = total(caps);
  const exact = caps.map((c) => (amount * c) / capacity);
  const shares = exact.map(Math.floor);
  const order = exact.map((e, i) => ({ i, fraction: e - Math.floor(e) })).sort((a, b) => b.fraction - a.fraction || a.i - b.i);
  for (let left = amount - total(shares), k = 0; left > 0; left--, k++) shares[order[k % order.length]!.i]! += 1;
  return shares;
}
