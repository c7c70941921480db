// Rollups in the portfolio's time zone (PORTFOLIO_TIME_ZONE) through the local stack: a VEN's two local days of
// metering in Asia/Kolkata (UTC+05:30, a part-hour offset) roll up into two daily rows from local midnight to local
// midnight (18:30 UTC), hours on the half hour UTC; in UTC they would be three partial days. The DST arithmetic
// (23 and 25 hour days) is pinned in test/unit/market-time.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { addDays, localDate, zonedInstant } from '../../lambdas/core/programs/market-time.js';
import { eventually } from '../e2e/helpers.js';
import { startApiStack, type ApiTestStack } from './stack.js';

const ZONE = 'Asia/Kolkata';
const DAY0 = addDays(localDate(Date.now(), ZONE), -4);
const FROM = zonedInstant(DAY0, 0, ZONE);
const TO = zonedInstant(addDays(DAY0, 2), 0, ZONE);
const iso = (ms: number) => new Date(ms).toISOString();

let stack: ApiTestStack;
beforeAll(async () => {
  stack = await startApiStack({ rollupIntervalMs: 3_600_000, portfolioTimeZone: ZONE });
  const samples = [];
  for (let t = FROM; t < TO; t += 300_000) samples.push({ venId: 'ven-tz', timestamp: t / 1000, usedPowerKw: 2 });
  for (let i = 0; i < samples.length; i += 40) {
    await stack.deliverToRules(
      topics.metering,
      Buffer.from(JSON.stringify({ venId: 'ven-tz', batch: samples.slice(i, i + 40) })),
      'ven-tz',
    );
  }
  await stack.settle();
  await stack.rollupPass();
  // the API reads the rows eventually consistently, as a client of AWS would: wait for the pass's last writes to show
  await eventually(
    async () =>
      (await stack.api(`/api/analytics/ven-tz/daily?from=${iso(FROM - 86_400_000)}&to=${iso(TO + 86_400_000)}`)).body
        .items?.length === 2,
  );
  await eventually(
    async () =>
      (
        await stack.api(
          `/api/telemetry/ven-tz/historical?interval=1h&from=${iso(FROM)}&to=${iso(FROM + 3 * 3_600_000)}`,
        )
      ).body.items?.length === 3,
  );
}, 120_000);
afterAll(() => stack?.dispose());

describe("daily rollups in the portfolio's time zone", () => {
  it('are local days: two rows from local midnight (18:30 UTC the day before), 96 intervals and 48 kWh each', async () => {
    const res = await stack.api(
      `/api/analytics/ven-tz/daily?from=${iso(FROM - 86_400_000)}&to=${iso(TO + 86_400_000)}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.items.map((r: { start: string; end: string }) => [r.start, r.end])).toEqual([
      [iso(zonedInstant(addDays(DAY0, 1), 0, ZONE)), iso(TO)],
      [iso(FROM), iso(zonedInstant(addDays(DAY0, 1), 0, ZONE))],
    ]);
    expect(iso(FROM).slice(11, 16)).toBe('18:30');
    for (const row of res.body.items)
      expect(row).toMatchObject({ samples: 288, import_kwh: 48, mean_kw: 2, online_hours: 24 });
  });

  it('and the hours under them are local hours (on the half hour UTC)', async () => {
    const res = await stack.api(
      `/api/telemetry/ven-tz/historical?interval=1h&from=${iso(FROM)}&to=${iso(FROM + 3 * 3_600_000)}`,
    );
    expect(res.body.items.map((r: { start: string }) => r.start.slice(11, 16))).toEqual(['20:30', '19:30', '18:30']);
  });
});
