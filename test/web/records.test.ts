// The dashboard's record views in Chromium against a real local stack with its simulated fleet: a node's ledger with
// its settlements and the chain check (intact, then broken after an edit behind the API), page by page; a VEN's
// rollups of a history written through the ingest path, the portfolio's, its forecast, and data quality.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { documentClient } from '../../lambdas/core/adapters.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { dashboardSession, expectAccessible, screenshot } from './browser.js';

const ui = dashboardSession({ fleet: true });
const { open } = ui;

const append = async (nodeId: string, type: string, ref: string, data: Record<string, unknown>) => {
  const res = await ui.stack.api('/api/transactions', {
    method: 'POST',
    body: JSON.stringify({ nodeId, type, ref, data }),
  });
  expect(res.status).toBe(201);
  return res.body as { seq: number };
};

describe('ledger', () => {
  it('shows a VEN’s settlements and its chain intact, reached from the VEN’s ui.page, then names the entry edited behind the API', async () => {
    await append('ven-001', 'bid', 'bid-1', { kw: 4, price: 0.3 });
    const settled = await append('ven-001', 'settlement', 'evt-42', {
      eventId: 'evt-42',
      delivered_kwh: 12.5,
      tariff_per_kwh: 0.2,
      amount: 2.5,
      currency: 'EUR',
    });
    await append('ven-001', 'payment', '<img src=x onerror="window.__pwned=1">', { note: '<b>paid</b>' });
    const unpriced = {
      eventId: 'evt-43',
      delivered_kwh: 3,
      tariff_per_kwh: null,
      amount: null,
      currency: null,
      note: 'no tariff in the VEN metadata',
    };
    await append('ven-001', 'settlement', 'evt-43', unpriced);

    await open('/vens/ven-001');
    await ui.page.getByRole('link', { name: 'Ledger', exact: true }).first().waitFor();
    await ui.page.locator('main').getByRole('link', { name: 'Ledger', exact: true }).click();
    await ui.page.waitForURL(/\/ledger\/ven-001$/);
    await ui.page.getByRole('heading', { name: 'Ledger of ven-001' }).waitFor();

    const result = ui.page.getByTestId('verify-result');
    await result.getByText('intact').waitFor();
    expect(await result.innerText()).toMatch(/All 4 entries check, oldest first; head seq 4, hash [0-9a-f]{64}/);

    const rows = ui.page.getByRole('table', { name: 'Ledger entries' }).getByRole('row');
    await rows.nth(4).waitFor();
    expect(await rows.nth(1).getByRole('rowheader').innerText()).toBe('4'); // newest first
    expect(await ui.page.getByText('fails the check').count()).toBe(0);
    const settlement = rows.filter({ hasText: 'evt-42' });
    expect(await settlement.getByRole('cell').nth(3).innerText()).toBe(
      'event evt-42 · delivered 12.5 kWh × 0.2 EUR/kWh = 2.5 EUR',
    );
    expect(await settlement.getByRole('link', { name: 'evt-42' }).getAttribute('href')).toBe('/events/evt-42');
    expect(await rows.filter({ hasText: 'evt-43' }).getByRole('cell').nth(3).innerText()).toBe(
      'event evt-43 · delivered 3 kWh × — = — (no tariff in the VEN metadata)',
    );
    // device- and admin-supplied strings are text
    await ui.page.getByText('<img src=x onerror="window.__pwned=1">').waitFor();
    await ui.page.getByText('note: <b>paid</b>').waitFor();
    expect(await ui.page.locator('main img, main b').count()).toBe(0);
    expect(await ui.page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'ledger');

    await documentClient(ui.stack.dynamodb.client).send(
      new UpdateCommand({
        TableName: ui.stack.dynamodb.tables.ledger,
        Key: { nodeId: 'ven-001', seq: settled.seq },
        UpdateExpression: 'SET #d.amount = :a',
        ExpressionAttributeNames: { '#d': 'data' },
        ExpressionAttributeValues: { ':a': 2500 },
      }),
    );
    await ui.page.getByRole('button', { name: 'Check again' }).click();
    await result.getByText(`broken at seq ${settled.seq}`).waitFor();
    expect(await result.innerText()).toMatch(
      /its content does not match its hash \(edited\)\. The entries before it check \(head seq 1, hash [0-9a-f]{64}\)\./,
    );
    // the list re-read: the edited amount, its row marked
    await settlement.getByText('fails the check').waitFor();
    expect(await settlement.getByTestId('amount').innerText()).toBe('2,500 EUR');
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'ledger-broken');
    expect(ui.errors).toEqual([]);
  });

  it('pages through a long ledger newest first, from the Ledger entry in the navigation', async () => {
    for (let n = 1; n <= 53; n++)
      await append('gt-bess-a', 'settlement', `evt-${n}`, {
        eventId: `evt-${n}`,
        delivered_kwh: n,
        tariff_per_kwh: 0.1,
        amount: n / 10,
        currency: 'EUR',
      });
    await open('/');
    await ui.page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Ledger' }).click();
    await ui.page
      .getByRole('navigation', { name: 'Ledgers of the VENs' })
      .getByRole('link', { name: 'ven-002' })
      .waitFor();
    await ui.page.getByLabel('Node id').fill('gt-bess-a');
    await ui.page.getByRole('button', { name: 'Show ledger' }).click();
    const rows = ui.page.getByRole('table', { name: 'Ledger entries' }).getByRole('rowheader');
    await ui.page.getByTestId('verify-result').getByText('intact').waitFor();
    await rows.first().waitFor();
    expect(await rows.allInnerTexts()).toEqual(Array.from({ length: 50 }, (_, i) => String(53 - i)));
    await ui.page.getByRole('button', { name: 'Older' }).click();
    await ui.page.waitForFunction(
      () => document.querySelectorAll('table[aria-label="Ledger entries"] tbody tr').length === 3,
    );
    expect(await rows.allInnerTexts()).toEqual(['3', '2', '1']);
    expect(await ui.page.getByRole('button', { name: 'Older' }).count()).toBe(0);
    await ui.page.getByRole('button', { name: 'Newer' }).click();
    await ui.page.waitForFunction(
      () => document.querySelectorAll('table[aria-label="Ledger entries"] tbody tr').length === 50,
    );
    await expectAccessible(ui.page);
    expect(ui.errors).toEqual([]);
  });

  it('says so for a node with no entries, and names the field of an id the API refuses', async () => {
    await open('/ledger/no-such-node');
    await ui.page.getByText('No entries for no-such-node.').waitFor();
    await ui.page.getByTestId('verify-result').getByText('Nothing to check').waitFor();
    await open('/ledger/bad%20id');
    await ui.page
      .getByRole('alert')
      .first()
      .getByText(/nodeId/)
      .waitFor();
    await expectAccessible(ui.page);
  });
});

const DAY = 86_400;
/** Two past UTC days of ven-003 through the real ingest path (batched metering), one sample a quarter-hour: day 1 at
 * 2 kW, day 2 at 3 kW with an event hour shedding 2 kW against a 5 kW baseline. */
let history: Promise<[number, number]> | undefined;
const historyOnce = () => (history ??= writeHistory());
async function writeHistory(): Promise<[number, number]> {
  const today = Math.floor(Date.now() / 1000 / DAY) * DAY;
  const days: [number, number] = [today - 3 * DAY, today - 2 * DAY];
  const samples = days.flatMap((d, i) =>
    Array.from({ length: 96 }, (_, q) => ({
      venId: 'ven-003',
      timestamp: d + q * 900 + 60,
      usedPowerKw: 2 + i,
      ...(i === 1 && q >= 40 && q < 44 && { eventId: 'evt-hist', baselinePowerKw: 5 }),
    })),
  );
  for (let k = 0; k < samples.length; k += 40) {
    await ui.stack.deliverToRules(
      topics.metering,
      Buffer.from(JSON.stringify({ venId: 'ven-003', batch: samples.slice(k, k + 40) })),
      'ven-003',
    );
  }
  await ui.stack.settle();
  await ui.stack.rollupPass();
  await dailyRowsShow('ven-003', days);
  return days;
}

/**
 * The page reads a node's daily rollups once: the rows a pass just wrote show a lag later (an eventually consistent
 * query, as in AWS), so the tests open it once the API lists them, as a user who reloads would see them.
 */
const dailyRowsShow = (nodeId: string, days: number[]) =>
  eventually(async () => {
    const res = await ui.stack.api(`/api/analytics/${nodeId}/daily`);
    const starts = ((res.body.items ?? []) as { start: string }[]).map((r) => Date.parse(r.start) / 1000);
    return days.every((d) => starts.includes(d));
  });

const dayLabel = (epochSec: number) =>
  new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' }).format(epochSec * 1000);

describe('analytics', () => {
  it('charts a VEN’s daily rollups of a history written through the ingest path, its figures exact, and the portfolio’s', async () => {
    const [day1, day2] = await historyOnce();
    await open('/vens/ven-003');
    const section = ui.page.getByRole('region', { name: 'Energy and power (daily)' });
    await section.locator('figure.chart').first().waitFor({ timeout: 15_000 });
    expect(Number(await section.locator('figure.chart').first().getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
    expect(await section.locator('figure.chart canvas').count()).toBe(3);
    await section.getByText(/^The figures/).click();
    const row = (d: number) =>
      section
        .getByRole('table', { name: 'Rollups daily' })
        .getByRole('row')
        .filter({ has: ui.page.getByRole('rowheader', { name: dayLabel(d), exact: true }) });
    // Imported, Exported, Shed, Peak, Mean, SOC, Online, Samples
    expect(await row(day1).getByRole('cell').allInnerTexts()).toEqual([
      '48 kWh',
      '0 kWh',
      '0 kWh',
      '2 kW',
      '2 kW',
      '—',
      '24 h',
      '96',
    ]);
    expect(await row(day2).getByRole('cell').allInnerTexts()).toEqual([
      '72 kWh',
      '0 kWh',
      '2 kWh',
      '3 kW',
      '3 kW',
      '—',
      '24 h',
      '96',
    ]);
    // against its peers, as the benchmarks route figures it
    const bench = (await ui.stack.api('/api/analytics/ven-003/benchmarks?days=30')).body as {
      metrics: Record<string, { value: number | null; percentile: number | null }>;
    };
    const peers = section.getByRole('table', { name: 'Compared with peers' });
    expect(await peers.getByRole('rowheader').allInnerTexts()).toEqual([
      'Load factor',
      'Availability',
      'Shed delivered',
    ]);
    const availability = peers.getByRole('row').filter({ hasText: 'Availability' }).getByRole('cell');
    expect(await availability.allInnerTexts()).toEqual([
      `${+(bench.metrics.availability!.value! * 100).toFixed(1)} %`,
      String(bench.metrics.availability!.percentile),
    ]);
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'ven-rollups');

    await section.getByRole('button', { name: 'Monthly (12 months)' }).click();
    await ui.page
      .getByRole('region', { name: 'Energy and power (monthly)' })
      .getByRole('table', { name: 'Rollups monthly', includeHidden: true })
      .waitFor({ state: 'attached' });
    expect(ui.page.url()).toContain('period=monthly');

    await ui.page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Analytics' }).click();
    await ui.page.getByRole('heading', { name: 'Portfolio analytics' }).waitFor();
    await ui.page.locator('figure.chart').first().waitFor();
    await ui.page.getByText(/^The figures/).click();
    const portfolio = ui.page
      .getByRole('table', { name: 'Rollups monthly' })
      .or(ui.page.getByRole('table', { name: 'Rollups daily' }));
    await portfolio.waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'analytics');
    expect(ui.errors).toEqual([]);
  });

  it('opens a DER asset’s page from Sites: its rollups (or that there are none yet), data quality and ledger', async () => {
    await open('/sites');
    await ui.page.getByRole('link', { name: 'gt-bess-a', exact: true }).click();
    await ui.page.waitForURL(/\/nodes\/gt-bess-a$/);
    await ui.page.getByRole('heading', { name: 'Node gt-bess-a' }).waitFor();
    // no closed quarter-hour of its readings yet unless this file ran past one and its grace (2 min)
    const rollups = ui.page.getByRole('region', { name: 'Energy and power (daily)' });
    await rollups
      .getByText('No daily rollups for gt-bess-a yet')
      .or(rollups.locator('figure.chart').first())
      .waitFor({ timeout: 15_000 });
    await ui.page
      .getByRole('region', { name: 'Data quality (24 h)' })
      .getByRole('group', { name: 'Data quality figures' })
      .waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'node');
    await ui.page.locator('main').getByRole('link', { name: 'Ledger', exact: true }).click();
    await ui.page.getByRole('heading', { name: 'Ledger of gt-bess-a' }).waitFor();
    expect(ui.errors).toEqual([]);
  });

  it('says so for a node the platform does not know', async () => {
    await open('/nodes/no-such-node');
    await ui.page
      .getByRole('region', { name: 'Energy and power (daily)' })
      .getByRole('alert')
      .getByText(/not a known node/)
      .waitFor();
    await expectAccessible(ui.page);
  });
});

describe('data quality', () => {
  it('shows a VEN’s data quality with its refusals by reason, and the fleet with a device gone quiet first, linking to it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const batch = Array.from({ length: 10 }, (_, i) => ({
      venId: 'ven-quiet',
      timestamp: now - 1200 + i * 60,
      usedPowerKw: 1,
    }));
    await ui.stack.deliverToRules(
      topics.metering,
      Buffer.from(JSON.stringify({ venId: 'ven-quiet', batch })),
      'ven-quiet',
    );
    await ui.stack.deliverToRules(topics.metering, Buffer.from('{"venId": "ven-003", "timestamp": '), 'ven-003');
    await ui.stack.settle();

    await open('/vens/ven-003');
    const section = ui.page.getByRole('region', { name: 'Data quality (24 h)' });
    const figures = section.getByRole('group', { name: 'Data quality figures' });
    await figures.waitFor({ timeout: 15_000 });
    expect(await figures.getByText(/^\d+ of \d+ readings$/).count()).toBe(1);
    const refused = section
      .getByRole('table', { name: 'Refusals by reason' })
      .getByRole('row')
      .filter({ hasText: 'malformed-json' });
    expect(await refused.getByRole('cell').innerText()).toMatch(/^[1-9]\d*$/);
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'ven-quality');

    await ui.page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Data quality' }).click();
    const table = ui.page.getByRole('table', { name: 'Data quality per device' });
    await table.waitFor({ timeout: 15_000 });
    const first = table.getByRole('row').nth(1);
    expect(await first.getByRole('rowheader').innerText()).toBe('ven-quiet');
    await first.getByText('quiet', { exact: true }).waitFor();
    for (const ven of ['ven-001', 'ven-002', 'ven-003'])
      await table.getByRole('link', { name: ven, exact: true }).waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'data-quality');
    await ui.page.getByRole('navigation', { name: 'Quiet devices' }).getByRole('link', { name: 'ven-quiet' }).click();
    await ui.page.waitForURL(/\/vens\/ven-quiet$/);
    expect(ui.errors).toEqual([]);
  });
});

describe('forecast', () => {
  it('shows a VEN’s next 24 h in quarter-hours and its error against the naive forecast, as the API gives them', async () => {
    await historyOnce();
    const api = (await ui.stack.api('/api/vens/ven-003/forecast')).body as {
      points: unknown[];
      error: { held_out_days: number; mae_kw: number; naive_mae_kw: number } | null;
      method: string;
    };
    expect(api.points).toHaveLength(96);
    await open('/vens/ven-003');
    const section = ui.page.getByRole('region', { name: 'Forecast (next 24 h)' });
    await ui.page.waitForFunction(
      () =>
        Number(
          document.querySelector('section[aria-labelledby="forecast-title"] figure.chart')?.getAttribute('data-points'),
        ) === 96,
      null,
      { timeout: 15_000 },
    );
    const error = await section.getByTestId('forecast-error').innerText();
    if (api.error)
      expect(error).toContain(`mean absolute error ${api.error.mae_kw} kW against ${api.error.naive_mae_kw} kW`);
    else expect(error).toBe('Not yet checked on held-out history: too little history.');
    await section.getByText(`Method: ${api.method}`, { exact: false }).waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'ven-forecast');
  });
});

describe('a site', () => {
  it('links from its section on the Sites view to its page: the forecast of its assets’ summed load and its daily rollups', async () => {
    // two past UTC days of site-gt through the der rule, a reading a quarter-hour (a rollup is the mean of the readings
    // in each quarter-hour it has any): its BESS charging 0.5 MW
    const today = Math.floor(Date.now() / 1000 / DAY) * DAY;
    for (let t = today - 2 * DAY; t < today; t += 900) {
      const asset = {
        asset_id: 'gt-bess-a',
        site_id: 'site-gt',
        asset_type: 'bess',
        mw: -0.5,
        online: true,
        soc_pct: 60,
      };
      const doc = {
        gatewayId: 'gw-site-gt',
        site_id: 'site-gt',
        timestamp: t,
        mw: -0.5,
        mw_setpoint: -0.5,
        assets: [asset],
      };
      await ui.stack.deliverToRules(topics.derTelemetry('gw-site-gt'), Buffer.from(JSON.stringify(doc)), 'gw-site-gt');
    }
    await ui.stack.settle();
    await ui.stack.rollupPass();
    await dailyRowsShow('site-gt', [today - DAY]);
    const forecast = await eventually(async () => {
      const body = (await ui.stack.api('/api/sites/site-gt/forecast')).body as { points: { kw: number }[] };
      return body.points.length === 96 && body;
    });
    expect(forecast.points).toHaveLength(96);
    expect(forecast.points[0]!.kw).toBe(-500); // output: charging is negative

    await open('/sites');
    await ui.page
      .getByRole('region', { name: 'Gateway Test Site' })
      .getByRole('link', { name: 'forecast and rollups' })
      .click();
    await ui.page.waitForURL(/\/sites\/site-gt$/);
    await ui.page.getByRole('heading', { name: 'Site Gateway Test Site' }).waitFor();
    await ui.page.waitForFunction(
      () =>
        Number(
          document.querySelector('section[aria-labelledby="forecast-title"] figure.chart')?.getAttribute('data-points'),
        ) === 96,
      null,
      { timeout: 15_000 },
    );
    await ui.page.getByText(/^Output \(\+ discharge or generation, − charging/).waitFor();
    const section = ui.page.getByRole('region', { name: 'Energy and power (daily)' });
    await section.getByText(/^The figures/).click();
    const day = section
      .getByRole('table', { name: 'Rollups daily' })
      .getByRole('row')
      .filter({ has: ui.page.getByRole('rowheader', { name: dayLabel(today - DAY), exact: true }) });
    // Imported, Exported, Shed, Peak, Mean, SOC (min / mean), Online, Samples: 500 kW charging all day
    expect(await day.getByRole('cell').allInnerTexts()).toEqual([
      '12,000 kWh',
      '0 kWh',
      '—',
      '500 kW',
      '500 kW',
      '60 % / 60 %',
      '24 h',
      '96',
    ]);
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'site');

    expect(ui.errors).toEqual([]);

    await open('/sites/site-nowhere');
    await ui.page.getByText(/No site site-nowhere: it is not in the inventory/).waitFor();
    expect(ui.errors).toEqual(['Failed to load resource: the server responded with a status of 404 (Not Found)']); // its GET /api/sites/site-nowhere
  });
});
