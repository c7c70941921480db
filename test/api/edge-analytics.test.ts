// Edge nodes in the fleet's figures, through the real ingest path (rule `edge`, its stream and handler, the local
// DynamoDB): the portfolio totals their draw, batteries and what they could charge or discharge now; the rollup pass
// rolls their telemetry up like a VEN's (and into the portfolio's rows); a node's load forecast is read from those rows.
// The figures are worked out by hand from the samples below.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { apiClient, eventually, presenceConnected, type ApiClient } from '../e2e/helpers.js';
import { fixture } from '../fixture.js';
import { startApiStack, type ApiTestStack } from './stack.js';

const DAY = 86_400_000;
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** The history: the first hour of the UTC day two days before today. */
const DAY0 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;

let stack: ApiTestStack;
let viewer: ApiClient;

/** The edge software's payload (the wire fixture) for node `dcId`: its draw, SOC, rating and battery. */
function sample(dcId: string, timestampSec: number, power_kw: number, soc: number, capacity_kw: number, kwh: number) {
  const sent = fixture('edge-telemetry') as Record<string, unknown> & { meta: Record<string, unknown> };
  return {
    ...sent,
    dc_id: dcId,
    timestamp: timestampSec,
    power_kw,
    soc,
    meta: { ...sent.meta, capacity_kw, battery_kwh: kwh },
  };
}

const deliver = (dcId: string, payload: Record<string, unknown>) =>
  stack.deliverToRules(topics.edgeTelemetry(dcId), Buffer.from(JSON.stringify(payload)), dcId);

beforeAll(async () => {
  // the schedule's own timer stays out of the way: the test runs the pass itself
  stack = await startApiStack({ rollupIntervalMs: 3_600_000 });
  viewer = apiClient(stack.config.apiUrl, stack.config.tokens.viewer);
  // dc-a's history: interval i of the hour (3 samples, 5 min apart) draws 100 + 20 i kW at SOC 60
  for (let k = 0; k < 12; k++) {
    await deliver('dc-a', sample('dc-a', (DAY0 + k * 5 * MIN) / 1000, 100 + 20 * Math.floor(k / 3), 60, 180, 200));
  }
  // now: dc-a and dc-b connected, dc-c heard only (never connected: offline)
  await presenceConnected(stack, 'dc-a', 'dc-b');
  const now = Math.floor(Date.now() / 1000);
  await deliver('dc-a', sample('dc-a', now, 100, 50, 180, 200));
  await deliver('dc-b', sample('dc-b', now, 40, 90, 60, 100));
  await deliver('dc-c', sample('dc-c', now, 500, 10, 50, 50));
  await stack.settle();
  await stack.rollupPass();
}, 60_000);

afterAll(() => stack?.dispose());

describe('edge nodes in the portfolio', () => {
  it('totals their draw and SOC over the online nodes, battery over all, and the kW each could discharge or charge now', async () => {
    // dc-a: 100 of 200 kWh held → 100 kW out, 100 kW in; dc-b: 90 of 100 kWh → 90 capped at its 60 kW rating out,
    // 10 in; dc-c offline: its 500 kW draw and its battery's charge left out of what is available
    const edge = await eventually(async () => {
      const res = await viewer('/api/portfolio');
      return res.status === 200 && res.body.edge?.online === 2 && res.body.edge?.nodes === 3 && res.body.edge;
    });
    expect(edge).toEqual({
      nodes: 3,
      online: 2,
      power_kw: 140,
      capacity_kw: 290,
      battery_kwh: 350,
      stored_kwh: 190,
      soc_pct: 63.33,
      available_discharge_kw: 160,
      available_charge_kw: 110,
    });
  });
});

describe('edge batteries in a fleet event plan', () => {
  it("lists what each online node's battery could discharge through the event's window, capped at its rating", async () => {
    const operator = apiClient(stack.config.apiUrl, stack.config.tokens.operator);
    const plan = async (duration_sec: number) =>
      (
        await operator('/api/events', {
          method: 'POST',
          body: JSON.stringify({ shed_kw: 5, duration_sec, dry_run: true }),
        })
      ).body.edge;
    // two hours: dc-a's 100 kWh → 50 kW, dc-b's 90 kWh → 45 kW; dc-c offline
    expect(await plan(7200)).toEqual({
      available_discharge_kw: 95,
      nodes: [
        { dcId: 'dc-a', soc_pct: 50, discharge_kw: 50 },
        { dcId: 'dc-b', soc_pct: 90, discharge_kw: 45 },
      ],
    });
    // half an hour: 200 and 180 kW, capped at their 180 and 60 kW ratings
    expect((await plan(1800)).available_discharge_kw).toBe(240);
  });
});

describe('edge nodes in the rollups', () => {
  const day = `from=${iso(DAY0)}&to=${iso(DAY0 + DAY)}`;

  it("rolls a node's telemetry up like a VEN's: its draw as import, its battery's SOC, hour and day", async () => {
    const q = await viewer(`/api/telemetry/dc-a/historical?interval=15m&${day}`);
    expect(q.status).toBe(200);
    expect(q.body.items.map((r: { mean_kw: number }) => r.mean_kw)).toEqual([160, 140, 120, 100]);
    const daily = await viewer(`/api/analytics/dc-a/daily?${day}`);
    expect(daily.body.items).toEqual([
      {
        start: iso(DAY0),
        end: iso(DAY0 + DAY),
        samples: 12,
        import_kwh: 130,
        export_kwh: 0,
        mean_kw: 130,
        peak_kw: 160,
        min_soc_pct: 60,
        mean_soc_pct: 60,
        shed_kwh: null,
        online_hours: 1,
      },
    ]);
  });

  it("counts the node in the portfolio's rows", async () => {
    const res = await viewer(`/api/analytics/portfolio?period=daily&${day}`);
    expect(res.body.items).toEqual([expect.objectContaining({ start: iso(DAY0), samples: 12, import_kwh: 130 })]);
  });

  it("forecasts the node's draw from its rollups, as a VEN's load", async () => {
    const res = await viewer('/api/edge/dc-a/forecast');
    expect(res.status).toBe(200);
    expect(res.body.dcId).toBe('dc-a');
    expect(res.body.points).toHaveLength(96);
    // the one day of history: each of the first hour's slots is that day's mean there
    const firstHour = res.body.points
      .filter((p: { start: string }) => /T00:(00|15|30|45):00\.000Z$/.test(p.start))
      .sort((a: { start: string }, b: { start: string }) => a.start.localeCompare(b.start))
      .map((p: { kw: number; source: string }) => [p.kw, p.source]);
    expect(firstHour).toEqual([
      [100, 'daily'],
      [120, 'daily'],
      [140, 'daily'],
      [160, 'daily'],
    ]);
    expect((await viewer('/api/edge/nobody/forecast')).status).toBe(404);
  });
});
