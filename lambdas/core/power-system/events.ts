// What changed between two evaluations of the power engine, and what the controller should tell the nodes.
import type { NodeState, Source, SystemState } from './engine.js';
import type { NodeKind, Topology } from '../contracts/topology.js';

export type PowerEvent =
  | { readonly type: 'power_lost'; readonly node_id: string; readonly at: number }
  | { readonly type: 'power_restored'; readonly node_id: string; readonly at: number; readonly to: Source }
  | {
      readonly type: 'source_changed' | 'restored_to_utility';
      readonly node_id: string;
      readonly at: number;
      readonly from: Source;
      readonly to: Source;
    }
  | { readonly type: 'ups_on_battery' | 'ups_battery_exhausted'; readonly node_id: string; readonly at: number }
  | {
      readonly type: 'generator_start_requested' | 'generator_online' | 'generator_stopped';
      readonly node_id: string;
      readonly at: number;
    }
  | {
      readonly type: 'overload' | 'overload_cleared';
      readonly node_id: string;
      readonly at: number;
      readonly load_pct: number;
    };

/**
 * The controller's commands, sent on `winter-river/{node_id}/command` (device/README.md, "Power engine"):
 * - `start_generator`, `stop_generator`: to a generator;
 * - `set_source` `{source, feed?}`: to a node that picks one of several feeds (a transfer switch) or a UPS, when
 *   what it runs from changes (`feed` is the node it now draws from; a UPS on battery has none);
 * - `set_energized` `{state}`: to every node that gained or lost power, so it reports what it can.
 */
export type ControllerCommand =
  | { readonly node_id: string; readonly command: 'start_generator' | 'stop_generator' }
  | {
      readonly node_id: string;
      readonly command: 'set_source';
      readonly params: { readonly source: Source; readonly feed?: string };
    }
  | { readonly node_id: string; readonly command: 'set_energized'; readonly params: { readonly state: boolean } };

export function diff(
  topology: Topology,
  previous: SystemState | undefined,
  next: SystemState,
  exhaustedAt: ReadonlyMap<string, number>,
): { events: PowerEvent[]; commands: ControllerCommand[] } {
  const at = next.at;
  const events: PowerEvent[] = [];
  const commands: ControllerCommand[] = [];
  for (const n of topology.nodes) {
    if (n.kind === 'generator') {
      const before = previous?.generators[n.id];
      const now = next.generators[n.id]!;
      if (now.requested_at !== null && (before?.requested_at ?? null) === null) {
        events.push({ type: 'generator_start_requested', node_id: n.id, at });
        commands.push({ node_id: n.id, command: 'start_generator' });
      }
      if (now.requested_at === null && before?.requested_at != null) {
        events.push({ type: 'generator_stopped', node_id: n.id, at });
        commands.push({ node_id: n.id, command: 'stop_generator' });
      }
      if (now.online && !before?.online) events.push({ type: 'generator_online', node_id: n.id, at });
    }
    const exhausted = exhaustedAt.get(n.id);
    if (exhausted !== undefined) events.push({ type: 'ups_battery_exhausted', node_id: n.id, at: exhausted });
    const before = previous?.nodes[n.id];
    if (!before) continue;
    const now = next.nodes[n.id]!;
    events.push(...transitions(n.id, n.kind, before, now, at));
    if (n.kind !== 'generator' && before.energized !== now.energized)
      commands.push({ node_id: n.id, command: 'set_energized', params: { state: now.energized } });
    const picks = n.kind === 'ups' || (n.feeds.length > 1 && n.feed_mode === 'priority');
    if (picks && now.energized && (before.source !== now.source || before.feeds.join() !== now.feeds.join())) {
      commands.push({
        node_id: n.id,
        command: 'set_source',
        params: { source: now.source!, ...(now.feeds[0] !== undefined && { feed: now.feeds[0] }) },
      });
    }
  }
  return { events, commands };
}

// A generator's power comes and goes with its own events (start requested, online, stopped).
function transitions(node_id: string, kind: NodeKind, before: NodeState, now: NodeState, at: number): PowerEvent[] {
  const out: PowerEvent[] = [];
  if (kind === 'generator') return overload(node_id, before, now, at);
  if (before.energized && !now.energized) out.push({ type: 'power_lost', node_id, at });
  if (!before.energized && now.energized) out.push({ type: 'power_restored', node_id, at, to: now.source! });
  if (before.energized && now.energized && before.source !== now.source) {
    out.push({
      type: now.source === 'utility' ? 'restored_to_utility' : 'source_changed',
      node_id,
      at,
      from: before.source!,
      to: now.source!,
    });
  }
  if (kind === 'ups' && now.source === 'ups' && before.source !== 'ups')
    out.push({ type: 'ups_on_battery', node_id, at });
  return [...out, ...overload(node_id, before, now, at)];
}

function overload(node_id: string, before: NodeState, now: NodeState, at: number): PowerEvent[] {
  if (now.overload && !before.overload) return [{ type: 'overload', node_id, at, load_pct: now.load_pct }];
  if (!now.overload && before.overload) return [{ type: 'overload_cleared', node_id, at, load_pct: now.load_pct }];
  return [];
}
