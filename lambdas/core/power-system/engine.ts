// The central controller's power engine (Winter River): from the topology, what every node last reported, the time and
// the previous system state, which nodes have power and from where, how much flows through each, what the UPS
// batteries have left, and what changed since. Pure: no clock, no I/O; call it on every status and on a timer.
import { diff, type ControllerCommand, type PowerEvent } from './events.js';
import type { Topology, TopologyNode } from '../contracts/topology.js';

export type Source = 'utility' | 'generator' | 'ups';

/** A node's latest `winter-river/{id}/status` as far as the engine cares: `fault` takes it out of service. */
export interface NodeReport {
  readonly status: string;
  readonly power_kw?: number;
}

export interface NodeState {
  readonly energized: boolean;
  readonly source: Source | null;
  /** The feeds it draws from now: one for a transfer switch, every live one for A/B, none for a source or a UPS on battery. */
  readonly feeds: readonly string[];
  /** What it passes downstream (for a server, what it draws) plus its losses. */
  readonly flow_kw: number;
  readonly load_pct: number;
  readonly overload: boolean;
  readonly battery_kwh_left?: number;
  /** At the present load; null with no load. */
  readonly minutes_left?: number | null;
}

export interface GeneratorState {
  /** When the engine asked it to start; null while it is not needed. */
  readonly requested_at: number | null;
  readonly online: boolean;
}

export interface UpsState {
  readonly battery_kwh_left: number;
  readonly on_battery_since: number | null;
  /** What it carried at the last evaluation: what drains the battery until the next one. */
  readonly load_kw: number;
}

export interface SystemState {
  readonly at: number;
  readonly nodes: Readonly<Record<string, NodeState>>;
  readonly generators: Readonly<Record<string, GeneratorState>>;
  readonly ups: Readonly<Record<string, UpsState>>;
}

export interface EngineResult {
  readonly state: SystemState;
  readonly events: PowerEvent[];
  readonly commands: ControllerCommand[];
}

/** A UPS back on its feed recharges its battery in 4 hours. */
const RECHARGE_PER_H = 0.25;

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

export function evaluate(
  topology: Topology,
  reports: Readonly<Record<string, NodeReport | undefined>>,
  nowMs: number,
  previous?: SystemState,
): EngineResult {
  const inService = (n: TopologyNode) => reports[n.id]?.status !== 'fault';
  const generators = generatorStates(topology, inService, nowMs, previous);
  const { ups, exhaustedAt } = drainBatteries(topology, nowMs, previous);
  const live = energize(
    topology,
    inService,
    (g) => generators[g]?.online ?? false,
    (u) => ups[u]!.battery_kwh_left > 0,
  );
  const flows = flowsOf(topology, live, reports);
  const nodes: Record<string, NodeState> = {};
  const upsOut: Record<string, UpsState> = {};
  for (const n of topology.nodes) {
    const l = live.get(n.id)!;
    const flow = flows.get(n.id)!;
    const extra: Partial<NodeState> = {};
    if (n.kind === 'ups') {
      const u = ups[n.id]!;
      const onBattery = l.source === 'ups';
      upsOut[n.id] = {
        battery_kwh_left: u.battery_kwh_left,
        on_battery_since: onBattery ? (u.on_battery_since ?? nowMs) : null,
        load_kw: flow,
      };
      Object.assign(extra, {
        battery_kwh_left: round(u.battery_kwh_left),
        minutes_left: flow > 0 ? round((u.battery_kwh_left / flow) * 60, 2) : null,
      });
    }
    nodes[n.id] = {
      ...l,
      flow_kw: round(flow),
      load_pct: round((flow / n.rated_kw) * 100, 1),
      overload: flow > n.rated_kw + 1e-9,
      ...extra,
    };
  }
  const state: SystemState = { at: nowMs, nodes, generators, ups: upsOut };
  return { state, ...diff(topology, previous, state, exhaustedAt) };
}

type Live = Pick<NodeState, 'energized' | 'source' | 'feeds'>;
const dark: Live = { energized: false, source: null, feeds: [] };

/** Who has power, in feed order: utilities always, generators when online, a UPS from its battery while it lasts. */
function energize(
  topology: Topology,
  inService: (n: TopologyNode) => boolean,
  generatorOnline: (id: string) => boolean,
  batteryLeft: (id: string) => boolean,
): Map<string, Live> {
  const live = new Map<string, Live>();
  for (const n of topology.nodes) {
    if (!inService(n)) live.set(n.id, dark);
    else if (n.kind === 'utility') live.set(n.id, { energized: true, source: 'utility', feeds: [] });
    else if (n.kind === 'generator')
      live.set(n.id, generatorOnline(n.id) ? { energized: true, source: 'generator', feeds: [] } : dark);
    else {
      const fed = n.feeds.filter((f) => live.get(f)!.energized);
      const from = n.feed_mode === 'priority' ? fed.slice(0, 1) : fed;
      if (from.length > 0) live.set(n.id, { energized: true, source: live.get(from[0]!)!.source, feeds: from });
      else if (n.kind === 'ups' && batteryLeft(n.id)) live.set(n.id, { energized: true, source: 'ups', feeds: [] });
      else live.set(n.id, dark);
    }
  }
  return live;
}

/** Server loads as reported, carried up the chain with each node's losses; shared equally across live A/B feeds. */
function flowsOf(
  topology: Topology,
  live: ReadonlyMap<string, Live>,
  reports: Readonly<Record<string, NodeReport | undefined>>,
): Map<string, number> {
  const drawn = new Map<string, number>(topology.nodes.map((n) => [n.id, 0]));
  const flows = new Map<string, number>();
  for (const n of [...topology.nodes].reverse()) {
    const l = live.get(n.id)!;
    const own = n.kind === 'server' ? Math.max(0, reports[n.id]?.power_kw ?? 0) : 0;
    const flow = l.energized ? (own + drawn.get(n.id)!) * (1 + n.loss_pct / 100) : 0;
    flows.set(n.id, flow);
    for (const f of l.feeds) drawn.set(f, drawn.get(f)! + flow / l.feeds.length);
  }
  return flows;
}

/**
 * A generator is needed while a node it feeds has no utility power on its other feeds; it is online once its start
 * delay has passed since the engine asked for it (and it is not faulted), and released when utility power is back.
 */
function generatorStates(
  topology: Topology,
  inService: (n: TopologyNode) => boolean,
  nowMs: number,
  previous?: SystemState,
): Record<string, GeneratorState> {
  const utilityOnly = energize(
    topology,
    inService,
    () => false,
    () => false,
  );
  const out: Record<string, GeneratorState> = {};
  for (const g of topology.nodes) {
    if (g.kind !== 'generator') continue;
    const needed = topology.children.get(g.id)!.some((c) => {
      const child = topology.byId.get(c)!;
      return inService(child) && !child.feeds.some((f) => f !== g.id && utilityOnly.get(f)!.energized);
    });
    const requestedAt = needed ? (previous?.generators[g.id]?.requested_at ?? nowMs) : null;
    out[g.id] = {
      requested_at: requestedAt,
      online: requestedAt !== null && inService(g) && nowMs - requestedAt >= g.start_delay_s * 1000,
    };
  }
  return out;
}

/** Each UPS battery after the time since the last evaluation: drained by the load it carried on battery, else recharging. */
function drainBatteries(topology: Topology, nowMs: number, previous?: SystemState) {
  const ups: Record<string, UpsState> = {};
  const exhaustedAt = new Map<string, number>();
  const hours = previous ? Math.max(0, nowMs - previous.at) / 3_600_000 : 0;
  for (const n of topology.nodes) {
    if (n.kind !== 'ups') continue;
    const before = previous?.ups[n.id] ?? { battery_kwh_left: n.battery_kwh, on_battery_since: null, load_kw: 0 };
    let left = before.battery_kwh_left;
    if (before.on_battery_since !== null) {
      left -= before.load_kw * hours;
      if (left <= 1e-9 && before.load_kw > 0) {
        exhaustedAt.set(n.id, previous!.at + (before.battery_kwh_left / before.load_kw) * 3_600_000);
        left = 0;
      }
    } else left = Math.min(n.battery_kwh, left + n.battery_kwh * RECHARGE_PER_H * hours);
    ups[n.id] = { ...before, battery_kwh_left: left };
  }
  return { ups, exhaustedAt };
}
