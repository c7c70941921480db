// Rollup reads (seed 004): a node's daily and monthly rows, the portfolio's, and a node's 15m / 1h / 1d history.
// Each is one Query on the rollups table (rollups-dynamodb.ts). nodeId: a VEN, DER asset, Winter River node or
// site id. A node with no rows that the platform does not know (registry, inventory) is a 404; a known one with
// no rows in the window answers `items: []`.
import { NotFoundError, ValidationError } from '../core/errors.js';
import { PORTFOLIO } from '../core/rollup-pass.js';
import { bucketStart, rollupView, type Tier } from '../core/rollups.js';
import { deviceIdParam, limitParam, timeParam } from './params.js';
import type { ApiPorts } from './ports.js';
import type { Query } from './queries.js';

const DAY_MS = 86_400_000;
const INTERVALS = { '15m': '15m', '1h': '1h', '1d': '1d' } as const satisfies Record<string, Tier>;
/** The default window of each tier: ending now, starting this many of its buckets back. */
const DEFAULT_BACK: Record<Tier, (now: number) => number> = {
  '15m': (now) => now - DAY_MS,
  '1h': (now) => now - 7 * DAY_MS,
  '1d': (now) => bucketStart('1d', now) - 29 * DAY_MS,
  '1mo': (now) => {
    const d = new Date(now);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 11, 1);
  },
};

/** `from` and `to`: ISO-8601 or epoch seconds; `to` exclusive (default now), `from` the tier's default window before it. */
function windowParams(tier: Tier, query: Query, now = Date.now()) {
  const to = timeParam('to', query?.to, now + 1);
  const from = timeParam('from', query?.from, DEFAULT_BACK[tier](Math.min(to, now)));
  if (from >= to) throw new ValidationError('from', 'from: must be before to');
  return { from, to, limit: limitParam(query?.limit), ...(query?.next && { next: query.next }) };
}

async function rows(ports: ApiPorts, nodeId: string, tier: Tier, query: Query) {
  const page = await ports.rollups.query(nodeId, tier, windowParams(tier, query));
  if (page.items.length === 0 && !query?.next && nodeId !== PORTFOLIO && !(await known(ports, nodeId))) {
    throw new NotFoundError(`node ${nodeId}`);
  }
  return { items: page.items.map(rollupView), ...(page.next && { next: page.next }) };
}

async function known(ports: ApiPorts, nodeId: string): Promise<boolean> {
  const [device, asset, site] = await Promise.all([ports.registry.get(nodeId), ports.inventory.getAsset(nodeId), ports.inventory.getSite(nodeId)]);
  return Boolean(device ?? asset ?? site);
}

export async function nodeRollups(ports: ApiPorts, nodeId: string | undefined, period: 'daily' | 'monthly', query: Query) {
  const id = deviceIdParam('nodeId', nodeId);
  return { nodeId: id, period, ...(await rows(ports, id, period === 'daily' ? '1d' : '1mo', query)) };
}

export async function portfolioRollups(ports: ApiPorts, query: Query) {
  const period = query?.period ?? 'daily';
  if (period !== 'daily' && period !== 'monthly') throw new ValidationError('period', 'period: must be daily or monthly');
  return { nodeId: PORTFOLIO, period, ...(await rows(ports, PORTFOLIO, period === 'daily' ? '1d' : '1mo', query)) };
}

export async function historical(ports: ApiPorts, nodeId: string | undefined, query: Query) {
  const id = deviceIdParam('nodeId', nodeId);
  const interval = query?.interval ?? '15m';
  if (!Object.hasOwn(INTERVALS, interval)) throw new ValidationError('interval', 'interval: must be 15m, 1h or 1d');
  const tier = INTERVALS[interval as keyof typeof INTERVALS];
  return { nodeId: id, interval, ...(await rows(ports, id, tier, query)) };
}
