// What a VEN could shed right now, from one metering payload. A load can give up at most what it draws
// (`currentPowerKw`), capped by its `shedCapabilityKw`; critical or disabled loads give nothing. A load is critical
// when it or the circuit of the same id says so (the VOLTTRON VEN carries `critical` on circuits only).
import type { Metering } from '../contracts/schemas.js';
import { shedOrder } from '../contracts/shed-plan.js';

/** Sheddable kW at one load priority; higher priority numbers are shed first (as the VEN agent does). */
export interface ShedTier {
  readonly priority: number;
  readonly kw: number;
}

export interface ShedCapability {
  readonly availableShedKw: number;
  /** Highest priority first. */
  readonly shedTiers: ShedTier[];
  /** Each sheddable load on its own, in the order the VEN sheds them (shed-plan.ts): what the allocation plans with. */
  readonly shedLoads: ShedTier[];
}

const round = (kw: number) => Math.round(kw * 1000) / 1000;

export function shedCapability(m: Metering): ShedCapability {
  const circuits = new Map(m.circuits.map((c) => [c.id, c]));
  const tiers = new Map<number, number>();
  const loads: { id: string; priority: number; powerKw: number }[] = [];
  const add = (priority: number, kw: number, id: string) => {
    if (kw <= 0) return;
    tiers.set(priority, (tiers.get(priority) ?? 0) + kw);
    loads.push({ id, priority, powerKw: kw });
  };
  for (const load of m.loads) {
    const circuit = circuits.get(load.loadId);
    circuits.delete(load.loadId);
    const critical = load.critical ?? circuit?.critical ?? false;
    const enabled = load.enabled && (circuit?.enabled ?? true);
    if (critical || !enabled) continue;
    add(load.priority ?? 0, Math.min(load.shedCapabilityKw ?? load.currentPowerKw, load.currentPowerKw), load.loadId);
  }
  for (const c of circuits.values()) if (!c.critical && c.enabled) add(0, c.currentKw, c.id);
  const shedTiers = [...tiers]
    .map(([priority, kw]) => ({ priority, kw: round(kw) }))
    .sort((a, b) => b.priority - a.priority);
  const shedLoads = shedOrder(loads).map((l) => ({ priority: l.priority, kw: round(l.powerKw) }));
  return { availableShedKw: round(shedTiers.reduce((s, t) => s + t.kw, 0)), shedTiers, shedLoads };
}
