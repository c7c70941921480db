// Rollups over a generated three-day history written through the real ingest path (rules engine, Kinesis stream,
// metering and der handlers, time series on the local DynamoDB), rolled up by the pass and read over HTTP.
// The figures are worked out by hand from how the history is built (see `venKw` and `DER` below).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLUP_GRACE_MS } from '../../lambdas/core/analytics/rollup-pass.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { apiClient, type ApiClient } from '../e2e/helpers.js';
import { shows, startApiStack, type ApiTestStack } from './stack.js';

const DAY = 86_400_000;
const INTERVAL = 900_000;
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** The history: three whole UTC days ending two days before today. */
const DAY0 = Math.floor(Date.now() / DAY) * DAY - 5 * DAY;
const DAYS = [0, 1, 2].map((d) => DAY0 + d * DAY);
const VENS = [1, 2, 3] as const;
/** VEN k's interval i: three samples (a − 0.5, a, a + 0.5) at minutes 0, 5, 10, a = k + 1 + (i mod 4): mean a. */
const venKw = (k: number, i: number) => k + 1 + (i % 4);
/** ven-r1 is in an event during hour 10 of day 1: baseline a + 2 on those samples, so 2 kW shed. */
const EVENT_FROM = DAYS[1]! + 10 * 3_600_000;
/** Site A: a-bess-1 discharges 2 kW (mw 0.002, export); a-bess-2 charges 1 kW in even intervals, 3 kW in odd ones. */
const DER = { bess1Mw: 0.002, bess2Mw: (i: number) => (i % 2 ? -0.003 : -0.001), soc1: 60, soc2: 30 };

function venBatches(k: number): Record<string, unknown>[] {
  const samples: Record<string, unknown>[] = [];
  for (let t = DAY0; t < DAY0 + 3 * DAY; t += 5 * MIN) {
    const i = Math.floor((t % DAY) / INTERVAL);
    const a = venKw(k, i);
    const offset = ((t % INTERVAL) / (5 * MIN) - 1) * 0.5;
    const inEvent = k === 1 && t >= EVENT_FROM && t < EVENT_FROM + 3_600_000;
    const soc = 50 + (i % 4) * 10;
    samples.push({
      venId: `ven-r${k}`,
      timestamp: t / 1000,
      usedPowerKw: a + offset,
      ...(k === 1 && { batterySOC: soc + offset * 10 }),
      ...(inEvent && { eventId: 'evt-1', baselinePowerKw: a + offset + 2 }),
    });
  }
  const batches = [];
  for (let i = 0; i < samples.length; i += 40) batches.push({ venId: `ven-r${k}`, batch: samples.slice(i, i + 40) });
  return batches;
}

function gatewayDocs(): Record<string, unknown>[] {
  const docs = [];
  for (let t = DAY0; t < DAY0 + 3 * DAY; t += 5 * MIN) {
    const i = Math.floor((t % DAY) / INTERVAL);
    const asset = (asset_id: string, mw: number, soc_pct: number) => ({
      asset_id,
      site_id: 'site-a',
      asset_type: 'bess',
      mw,
      online: true,
      soc_pct,
    });
    docs.push({
      gatewayId: 'gw-a',
      site_id: 'site-a',
      timestamp: t / 1000,
      mw: DER.bess1Mw + DER.bess2Mw(i),
      mw_setpoint: 0,
      assets: [asset('a-bess-1', DER.bess1Mw, DER.soc1), asset('a-bess-2', DER.bess2Mw(i), DER.soc2)],
    });
  }
  return docs;
}

let stack: ApiTestStack;
let viewer: ApiClient;

async function deliver(topic: string, clientId: string, payloads: Record<string, unknown>[]) {
  for (const p of payloads) await stack.deliverToRules(topic, Buffer.from(JSON.stringify(p)), clientId);
}

const range = `from=${iso(DAY0)}&to=${iso(DAY0 + 3 * DAY)}`;

beforeAll(async () => {
  // the schedule's own timer stays out of the way: the test runs each pass itself
  stack = await startApiStack({ rollupIntervalMs: 3_600_000 });
  viewer = apiClient(stack.config.apiUrl, stack.config.tokens.viewer);
  for (const k of VENS) await deliver(topics.metering, `ven-r${k}`, venBatches(k));
  await deliver(topics.derTelemetry('gw-a'), 'gw-a', gatewayDocs());
  await stack.settle();
  // the pass finds the VENs in the registry's listing (an index): VENs registered a moment ago show there within the
  // lag (in AWS their samples are minutes old when the pass closes their buckets)
  await vensListed(VENS.map((k) => `ven-r${k}`));
  await stack.rollupPass();
  // and the rows it just put show to the API's eventually consistent reads within the lag
  await shows(async () => {
    for (const node of [...VENS.map((k) => `ven-r${k}`), 'site-a'])
      expect((await viewer(`/api/analytics/${node}/daily?${range}`)).body.items, node).toHaveLength(3);
    expect((await viewer(`/api/analytics/portfolio?period=daily&${range}`)).body.items).toHaveLength(3);
  });
}, 240_000);

async function vensListed(venIds: string[]) {
  await shows(async () => {
    const listed = (await viewer('/api/vens?limit=100')).body.items.map((v: { venId: string }) => v.venId);
    expect(listed).toEqual(expect.arrayContaining(venIds));
  });
}

afterAll(() => stack?.dispose());

describe('given three days of metering and DER history ingested late, when the rollup pass runs', () => {
  it("then each VEN's daily rows are its hand-computed figures: 24k + 60 kWh, mean k + 2.5 kW, peak k + 4 kW, 24 h online", async () => {
    for (const k of VENS) {
      const res = await viewer(`/api/analytics/ven-r${k}/daily?${range}`);
      expect(res.status).toBe(200);
      expect(res.body.nodeId).toBe(`ven-r${k}`);
      expect(res.body.period).toBe('daily');
      expect(res.body.items).toEqual(
        [...DAYS].reverse().map((d) => ({
          start: iso(d),
          end: iso(d + DAY),
          samples: 288,
          import_kwh: 24 * k + 60,
          export_kwh: 0,
          mean_kw: k + 2.5,
          peak_kw: k + 4,
          min_soc_pct: k === 1 ? 45 : null,
          mean_soc_pct: k === 1 ? 65 : null,
          shed_kwh: k === 1 && d === DAYS[1] ? 2 : 0,
          online_hours: 24,
        })),
      );
    }
  });

  it('then the 15-minute and hourly history of ven-r1 matches the intervals, the event hour showing its shed', async () => {
    const from = EVENT_FROM;
    const q = await viewer(
      `/api/telemetry/ven-r1/historical?interval=15m&from=${iso(from)}&to=${iso(from + 3_600_000)}`,
    );
    expect(q.status).toBe(200);
    expect(q.body.interval).toBe('15m');
    expect(q.body.items.map((r: { start: string }) => r.start)).toEqual(
      [3, 2, 1, 0].map((n) => iso(from + n * INTERVAL)),
    );
    expect(q.body.items[3]).toEqual({
      start: iso(from),
      end: iso(from + INTERVAL),
      samples: 3,
      import_kwh: 0.5,
      export_kwh: 0,
      mean_kw: 2,
      peak_kw: 2,
      min_soc_pct: 45,
      mean_soc_pct: 50,
      shed_kwh: 0.5,
      online_hours: 0.25,
    });
    const h = await viewer(`/api/telemetry/ven-r1/historical?interval=1h&from=${iso(from)}&to=${iso(from + 1)}`);
    expect(h.body.items).toEqual([
      {
        start: iso(from),
        end: iso(from + 3_600_000),
        samples: 12,
        import_kwh: 3.5,
        export_kwh: 0,
        mean_kw: 3.5,
        peak_kw: 5,
        min_soc_pct: 45,
        mean_soc_pct: 65,
        shed_kwh: 2,
        online_hours: 1,
      },
    ]);
  });

  it('then DER assets roll up with generation as export, and their site nets them per interval (peak of the sum, not of the parts)', async () => {
    const bess1 = (await viewer(`/api/analytics/a-bess-1/daily?${range}`)).body.items[0];
    expect(bess1).toMatchObject({
      samples: 288,
      import_kwh: 0,
      export_kwh: 48,
      mean_kw: -2,
      peak_kw: -2,
      min_soc_pct: 60,
      shed_kwh: null,
    });
    const bess2 = (await viewer(`/api/analytics/a-bess-2/daily?${range}`)).body.items[0];
    expect(bess2).toMatchObject({ import_kwh: 48, export_kwh: 0, mean_kw: 2, peak_kw: 3, min_soc_pct: 30 });
    const site = await viewer(`/api/analytics/site-a/daily?${range}`);
    expect(site.body.items).toHaveLength(3);
    for (const row of site.body.items) {
      expect(row).toMatchObject({
        samples: 576,
        import_kwh: 12,
        export_kwh: 12,
        mean_kw: 0,
        peak_kw: 1,
        min_soc_pct: 30,
        mean_soc_pct: 45,
        shed_kwh: null,
        online_hours: 48,
      });
    }
  });

  it('then the portfolio is the sum of its VENs and DER assets, per interval', async () => {
    const res = await viewer(`/api/analytics/portfolio?period=daily&${range}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ nodeId: 'portfolio', period: 'daily' });
    expect(
      res.body.items.map((r: Record<string, unknown>) => [
        r.start,
        r.import_kwh,
        r.export_kwh,
        r.peak_kw,
        r.shed_kwh,
        r.online_hours,
        r.samples,
      ]),
    ).toEqual([...DAYS].reverse().map((d) => [iso(d), 324, 0, 19, d === DAYS[1] ? 2 : 0, 120, 5 * 288]));
  });

  it('then monthly rows add up the days of each month', async () => {
    const byMonth = new Map<string, number>();
    for (const d of DAYS) {
      const m = new Date(d);
      const key = iso(Date.UTC(m.getUTCFullYear(), m.getUTCMonth(), 1));
      byMonth.set(key, (byMonth.get(key) ?? 0) + 1);
    }
    const res = await viewer(`/api/analytics/ven-r2/monthly?from=${iso(DAY0 - 40 * DAY)}`);
    expect(res.body.items.map((r: Record<string, unknown>) => [r.start, r.import_kwh, r.online_hours])).toEqual(
      [...byMonth].reverse().map(([start, days]) => [start, days * (24 * 2 + 60), days * 24]),
    );
  });

  it('then late samples change exactly the rows of their bucket, up the tiers and in the portfolio', async () => {
    const daily = async (node: string) =>
      (
        await viewer(
          node === 'portfolio'
            ? `/api/analytics/portfolio?period=daily&${range}`
            : `/api/analytics/${node}/daily?${range}`,
        )
      ).body.items;
    const interval15 = async (from: number, to: number) =>
      (await viewer(`/api/telemetry/ven-r2/historical?interval=15m&from=${iso(from)}&to=${iso(to)}&limit=1000`)).body
        .items;
    const before = {
      ven: await daily('ven-r2'),
      portfolio: await daily('portfolio'),
      other: await daily('ven-r3'),
      q: await interval15(DAYS[2]!, DAYS[2]! + DAY),
    };
    // day 2, interval 5 (a = 2 + 1 + 1 = 4): a fourth sample of 6 kW moves its mean to 4.5 kW, +0.125 kWh
    const at = DAYS[2]! + 5 * INTERVAL + 12 * MIN;
    await deliver(topics.metering, 'ven-r2', [{ venId: 'ven-r2', timestamp: at / 1000, usedPowerKw: 6 }]);
    await stack.settle();
    await stack.rollupPass();
    // the rows just put show within the lag
    await shows(async () => {
      expect((await daily('ven-r2'))[0].samples).toBe(289);
      expect((await daily('portfolio'))[0].samples).toBe(1441);
      expect((await interval15(DAYS[2]!, DAYS[2]! + DAY)).map((r: { samples: number }) => r.samples)).toContain(4);
    });
    const after = {
      ven: await daily('ven-r2'),
      portfolio: await daily('portfolio'),
      other: await daily('ven-r3'),
      q: await interval15(DAYS[2]!, DAYS[2]! + DAY),
    };
    expect(after.other).toEqual(before.other);
    // newest first: day 2 is item 0
    expect(after.ven.slice(1)).toEqual(before.ven.slice(1));
    expect(after.ven[0]).toEqual({ ...before.ven[0], samples: 289, import_kwh: 108.125, mean_kw: 4.505 });
    expect(after.portfolio.slice(1)).toEqual(before.portfolio.slice(1));
    expect(after.portfolio[0]).toEqual({ ...before.portfolio[0], samples: 1441, import_kwh: 324.125, mean_kw: 13.505 });
    const changed = after.q.filter((r: unknown, n: number) => JSON.stringify(r) !== JSON.stringify(before.q[n]));
    expect(changed).toEqual([
      {
        ...before.q.find((r: { start: string }) => r.start === iso(DAYS[2]! + 5 * INTERVAL)),
        samples: 4,
        import_kwh: 1.125,
        mean_kw: 4.5,
        peak_kw: 4.5,
      },
    ]);
  });
});

describe('given a reading on time, when the pass runs', () => {
  it("then its bucket has no row until the bucket ends and the grace passes, and then it has, in the portfolio too (a Winter River node's: its own only)", async () => {
    const at = Date.now() - 1000;
    const bucket = Math.floor(at / INTERVAL) * INTERVAL;
    await deliver(topics.metering, 'ven-r9', [{ venId: 'ven-r9', timestamp: at / 1000, usedPowerKw: 8 }]);
    // a Winter River server's status, stored at its receive time: its own rollups, not the portfolio's
    const wrBucket = Math.floor(Date.now() / INTERVAL) * INTERVAL;
    await deliver(topics.winterRiverStatus('srv_a'), 'srv_a', [{ node_id: 'srv_a', status: 'online', power_kw: 1.5 }]);
    await stack.settle();
    await vensListed(['ven-r9']);
    await shows(async () =>
      expect((await viewer('/api/winter-river/nodes')).body.items.map((n: { nodeId: string }) => n.nodeId)).toContain(
        'srv_a',
      ),
    );
    const rows = async (node: string) =>
      (await viewer(`/api/telemetry/${node}/historical?interval=15m&from=${iso(bucket)}&to=${iso(bucket + INTERVAL)}`))
        .body.items;
    await stack.rollupPass();
    expect(await rows('ven-r9')).toEqual([]);
    await stack.rollupPass(Math.max(bucket, wrBucket) + INTERVAL + ROLLUP_GRACE_MS);
    await shows(async () => expect(await rows('portfolio')).toHaveLength(1));
    await shows(async () =>
      expect(
        (
          await viewer(
            `/api/telemetry/ven-r9/historical?interval=1h&from=${iso(bucket - 3_600_000)}&to=${iso(bucket + INTERVAL)}`,
          )
        ).body.items,
      ).toHaveLength(1),
    );
    const expected = {
      start: iso(bucket),
      end: iso(bucket + INTERVAL),
      samples: 1,
      import_kwh: 2,
      export_kwh: 0,
      mean_kw: 8,
      peak_kw: 8,
      min_soc_pct: null,
      mean_soc_pct: null,
    };
    expect(await rows('ven-r9')).toEqual([{ ...expected, shed_kwh: 0, online_hours: 0.25 }]);
    expect(await rows('portfolio')).toEqual([{ ...expected, shed_kwh: 0, online_hours: 0.25 }]);
    const wr = (
      await viewer(`/api/telemetry/srv_a/historical?interval=15m&from=${iso(wrBucket)}&to=${iso(wrBucket + INTERVAL)}`)
    ).body.items;
    expect(wr).toEqual([
      {
        start: iso(wrBucket),
        end: iso(wrBucket + INTERVAL),
        samples: 1,
        import_kwh: 0.375,
        export_kwh: 0,
        mean_kw: 1.5,
        peak_kw: 1.5,
        min_soc_pct: null,
        mean_soc_pct: null,
        shed_kwh: null,
        online_hours: 0.25,
      },
    ]);
    // (the two readings almost always share a bucket; if not, the server's bucket has no portfolio row at all)
    if (wrBucket !== bucket)
      expect(
        (
          await viewer(
            `/api/telemetry/portfolio/historical?interval=15m&from=${iso(wrBucket)}&to=${iso(wrBucket + INTERVAL)}`,
          )
        ).body.items,
      ).toEqual([]);
    const hour = (
      await viewer(
        `/api/telemetry/ven-r9/historical?interval=1h&from=${iso(bucket - 3_600_000)}&to=${iso(bucket + INTERVAL)}`,
      )
    ).body.items;
    expect(hour).toMatchObject([{ samples: 1, import_kwh: 2, peak_kw: 8 }]);
  });
});

describe('given the history, when a node is compared with its peers', () => {
  it('then a VEN gets its load factor, availability and shed ratio over the last 30 UTC days, each with its percentile among the VENs', async () => {
    const res = await viewer('/api/analytics/ven-r1/benchmarks?days=30');
    expect(res.status).toBe(200);
    const to = Math.floor(Date.now() / DAY) * DAY;
    expect(res.body).toEqual({
      nodeId: 'ven-r1',
      type: 'ven',
      peers: 4, // ven-r1..3 and ven-r9, whose only reading is today's, outside the window
      from: iso(to - 30 * DAY),
      to: iso(to),
      metrics: {
        load_factor: { value: 0.7, percentile: 33 }, // 3.5 / 5 against 4.5 / 6 and 5.5 / 7 (ven-r9: none)
        availability: { value: 0.1, percentile: 100 }, // 72 h of 720, as ven-r2 and ven-r3; ven-r9 0
        shed_delivered_ratio: { value: null, percentile: null }, // no fleet event committed it to anything
      },
    });
  });

  it('then an asset is compared with the assets of its type and a site with the sites', async () => {
    const bess = await viewer('/api/analytics/a-bess-2/benchmarks');
    expect(bess.body).toMatchObject({
      type: 'bess',
      peers: 3,
      metrics: { load_factor: { value: 0.667, percentile: 100 }, availability: { value: 0.1, percentile: 100 } },
    });
    const site = await viewer('/api/analytics/site-a/benchmarks');
    expect(site.body).toMatchObject({
      type: 'site',
      peers: 2,
      metrics: { availability: { value: 0.2, percentile: 100 } },
    });
  });

  it('then bad days are a 400 naming days, an unknown node a 404', async () => {
    expect([
      (await viewer('/api/analytics/ven-r1/benchmarks?days=0')).body.field,
      (await viewer('/api/analytics/ven-r1/benchmarks?days=x')).status,
    ]).toEqual(['days', 400]);
    expect((await viewer('/api/analytics/ven-nobody/benchmarks')).status).toBe(404);
  });
});

describe('the rollup routes at the edge', () => {
  it('answers bad input with a 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['/api/telemetry/ven-r1/historical?interval=5m', 'interval'],
      ['/api/analytics/ven-r1/daily?from=yesterday', 'from'],
      ['/api/analytics/ven-r1/daily?to=2026-13-45T99', 'to'],
      [`/api/analytics/ven-r1/daily?from=${iso(DAY0 + DAY)}&to=${iso(DAY0)}`, 'from'],
      ['/api/analytics/portfolio?period=weekly', 'period'],
      ['/api/analytics/ven%20r1/daily', 'nodeId'],
    ];
    for (const [path, field] of cases) {
      const res = await viewer(path);
      expect([path, res.status, res.body.field]).toEqual([path, 400, field]);
    }
  });

  it('answers 404 for a node the platform does not know, and an empty list for a known one without data', async () => {
    expect((await viewer('/api/analytics/ven-nobody/daily')).status).toBe(404);
    const known = await viewer('/api/analytics/b-bess-1/daily');
    expect([known.status, known.body.items]).toEqual([200, []]);
  });

  it('needs a token', async () => {
    expect((await stack.api('/api/analytics/portfolio', { token: null })).status).toBe(401);
  });
});
