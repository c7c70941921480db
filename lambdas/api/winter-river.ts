// GET /api/winter-river/system: the power system as the controller last evaluated it, every node of the topology
// in feed order (sources first), and the recent propagation events, newest first.
import type { PowerEvent } from '../core/power-system/events.js';
import type { ApiPorts } from './ports.js';

const iso = (ms: number) => new Date(ms).toISOString();

export async function winterRiverSystem(ports: ApiPorts) {
  const record = await ports.powerSystem.store.get();
  const state = record?.state;
  const nodes = ports.powerSystem.topology.nodes.map((n) => {
    const node = state?.nodes[n.id];
    const report = record?.reports[n.id];
    return {
      node_id: n.id,
      kind: n.kind,
      feeds: n.feeds,
      rated_kw: n.rated_kw,
      /** null until the controller has evaluated the system once. */
      energized: node?.energized ?? null,
      source: node?.source ?? null,
      /** The feeds it draws from now. */
      drawing_from: node?.feeds ?? [],
      flow_kw: node?.flow_kw ?? null,
      load_pct: node?.load_pct ?? null,
      overload: node?.overload ?? null,
      status: report?.status ?? null,
      reported_at: report ? iso(report.at) : null,
      ...(n.kind === 'ups' && {
        battery_kwh: n.battery_kwh,
        battery_kwh_left: node?.battery_kwh_left ?? null,
        minutes_left: node?.minutes_left ?? null,
      }),
      ...(n.kind === 'generator' && {
        running: state?.generators[n.id]?.online ?? false,
        start_delay_s: n.start_delay_s,
      }),
    };
  });
  return { at: state ? iso(state.at) : null, nodes, events: (record?.events ?? []).map(eventOut) };
}

const eventOut = (e: PowerEvent) => ({ ...e, at: iso(e.at) });
