// A node's 15-minute mean load (kW), read from its 15-minute rollups (rollups.ts): one Query, whatever the device's
// reporting rate. A VEN's load is its interval mean plus what an event held off in it (the shed against its own
// baselinePowerKw, rollups' shed_kwh ÷ 0.25 h), so a forecast learns the load without events; a DER asset's and a
// site's is their rollup sign turned (rollups count import +, the wire and the forecast generation/discharge +); an
// edge node's is its site's draw as rolled up (+ consumption, as a VEN's).
// A slot exists once the rollup pass has closed it: up to ~17 minutes after it ends in AWS (a pass every 15 minutes).
import { slotOf, type QuarterHourLoads } from './forecast.js';
import { INTERVAL_MS, type RollupRow } from './rollups.js';
import type { RollupStore } from './rollups-dynamodb.js';

export type LoadNodeKind = 'ven' | 'asset' | 'site' | 'edge';

const HOURS = INTERVAL_MS / 3_600_000;
const loadOf = (kind: LoadNodeKind, row: RollupRow) =>
  kind === 'ven' ? row.kwSum + (row.shedKwh ?? 0) / HOURS : kind === 'edge' ? row.kwSum : -row.kwSum;

/** Slot start → the node's mean kW there, over [from, to) (from rounded down to a slot). */
export async function quarterHourLoads(
  rollups: Pick<RollupStore, 'query'>,
  kind: LoadNodeKind,
  nodeId: string,
  from: number,
  to: number,
): Promise<QuarterHourLoads> {
  const out = new Map<number, number>();
  let next: string | undefined;
  do {
    const page = await rollups.query(nodeId, '15m', {
      from: slotOf(from),
      to,
      limit: 1000,
      oldestFirst: true,
      ...(next && { next }),
    });
    for (const row of page.items) out.set(row.start, loadOf(kind, row));
    next = page.next;
  } while (next);
  return out;
}
