// `GET /api/vens/{venId}/forecast` and `GET /api/sites/{siteId}/forecast`: the next 24 h of load from the next
// 15-minute slot (core/analytics/forecast.ts), with the method's error on the last held-out days against a naive forecast.
import { kw } from '../core/analytics/baseline.js';
import { NotFoundError } from '../core/contracts/errors.js';
import {
  FORECAST_METHOD,
  forecastLoads,
  heldOutError,
  HISTORY_MS,
  slotOf,
  SLOT_MS,
  type QuarterHourLoads,
} from '../core/analytics/forecast.js';
import { quarterHourLoads } from '../core/analytics/quarter-hour-loads.js';
import { idParam } from './params.js';
import type { ApiPorts } from './ports.js';
import { existingVen } from './queries.js';

export async function venForecast(ports: ApiPorts, venId: string | undefined) {
  const id = await existingVen(ports, venId);
  return { venId: id, ...(await forecastView((from, to) => quarterHourLoads(ports.rollups, 'ven', id, from, to))) };
}

export async function siteForecast(ports: ApiPorts, siteId: string | undefined) {
  const site = await ports.inventory.getSite(idParam('siteId', siteId));
  if (!site) throw new NotFoundError(`site ${siteId}`);
  return {
    siteId: site.site_id,
    ...(await forecastView((from, to) => quarterHourLoads(ports.rollups, 'site', site.site_id, from, to))),
  };
}

/** An edge node's site draw (+ consumption), from its rollups as a VEN's load is (it measures no shed). */
export async function nodeForecast(ports: ApiPorts, kind: 'edge', nodeId: string) {
  return forecastView((from, to) => quarterHourLoads(ports.rollups, kind, nodeId, from, to));
}

/** No reading in the history read: no points and no error, and `note` says why. */
async function forecastView(read: (from: number, to: number) => Promise<QuarterHourLoads>) {
  const now = Date.now();
  const origin = slotOf(now) + SLOT_MS;
  const loads = await read(origin - HISTORY_MS, origin);
  const forecast = forecastLoads(loads, origin);
  return {
    method: FORECAST_METHOD,
    resolution: '15m',
    generated_at: new Date(now).toISOString(),
    points: forecast.points.map((p) => ({ start: new Date(p.start).toISOString(), kw: kw(p.kw), source: p.source })),
    adjustment: forecast.adjustment && {
      factor: kw(forecast.adjustment.factor),
      uncapped: kw(forecast.adjustment.uncapped),
      capped: forecast.adjustment.capped,
    },
    error: heldOutError(loads, origin),
    ...(forecast.points.length === 0 && {
      note: `no load reading in the last ${HISTORY_MS / 86_400_000} days: nothing to forecast from`,
    }),
  };
}
