// Alarms computed from the fleet's own state in the live store (there is no monitoring agent yet): what an operator
// must look at now, in their words, each with where to look.
import { hrefOf } from '../router.js';
import type { WinterRiverSystem } from '../api/types.js';
import type { LiveStore, NodeRow, VenRow } from './store.js';

export interface Alarm {
  /** Stable while the condition lasts: a new id is a new alarm, announced. */
  readonly id: string;
  readonly severity: 'critical' | 'warning';
  readonly text: string;
  readonly href: string;
  readonly linkText: string;
}

/** VENs heard from within this window count as "seen recently": a VEN retired last month does not alarm. */
export const RECENT_MS = 24 * 3600_000;
/** Below this share of the recently seen VENs online, the fleet is in trouble even with no event running. */
export const ONLINE_SHARE = 0.9;

export function fleetAlarms(live: Pick<LiveStore, 'vens' | 'nodes' | 'system'>, now: number): Alarm[] {
  return [
    ...venAlarms([...live.vens.values()], now),
    ...nodeAlarms([...live.nodes.values()]),
    ...chainAlarms(live.system),
  ];
}

function venAlarms(vens: VenRow[], now: number): Alarm[] {
  const recent = vens.filter((v) => v.lastSeen !== undefined && now - v.lastSeen <= RECENT_MS);
  const offline = recent.filter((v) => !v.online);
  if (offline.length === 0) return [];
  const alarms: Alarm[] = [];
  // A drop-out during an event first: the shed committed to the grid is at risk.
  const byEvent = new Map<string, number>();
  for (const v of offline) if (v.eventId) byEvent.set(v.eventId, (byEvent.get(v.eventId) ?? 0) + 1);
  for (const [eventId, count] of byEvent) {
    alarms.push({
      id: `vens-offline-event:${eventId}`,
      severity: 'critical',
      text: `${count} of ${recent.length} VENs offline during event ${eventId}`,
      href: hrefOf.event(eventId),
      linkText: 'Open the event',
    });
  }
  if (byEvent.size === 0 && (recent.length - offline.length) / recent.length < ONLINE_SHARE) {
    alarms.push({
      id: 'vens-offline',
      severity: 'warning',
      text: `${offline.length} of ${recent.length} VENs offline`,
      href: '/?state=offline',
      linkText: 'Show the offline VENs',
    });
  }
  return alarms;
}

/** The controller's view: what of the chain runs on its UPS battery or the standby generator. */
function chainAlarms(system: WinterRiverSystem | undefined): Alarm[] {
  const alarms: Alarm[] = [];
  for (const source of ['ups', 'generator'] as const) {
    const on = (system?.nodes ?? []).filter((n) => n.energized && n.source === source).map((n) => n.node_id);
    if (on.length === 0) continue;
    alarms.push({
      id: `wr-${source}:${on.join(',')}`,
      severity: 'critical',
      text: `Winter River on ${source === 'ups' ? 'UPS' : 'generator'}: ${on.join(', ')}`,
      href: '/winter-river',
      linkText: 'Open Winter River',
    });
  }
  return alarms;
}

function nodeAlarms(nodes: NodeRow[]): Alarm[] {
  const alarms: Alarm[] = [];
  const faulted = nodes
    .filter((n) => n.status === 'fault')
    .map((n) => n.nodeId)
    .sort();
  if (faulted.length > 0) {
    alarms.push({
      id: `wr-fault:${faulted.join(',')}`,
      severity: 'critical',
      text: `Winter River: ${faulted.join(', ')} faulted`,
      href: '/winter-river',
      linkText: 'Open Winter River',
    });
  }
  return alarms;
}
