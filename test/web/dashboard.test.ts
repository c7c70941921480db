// The operator dashboard in a real browser against a real local stack with its simulated fleet: each view shows
// the fleet, commands go out from the UI and their outcome comes back live, and the page survives the socket dropping.
import { readFile } from 'node:fs/promises';
import type { WebSocketRoute } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { settleEvent } from '../../lambdas/core/dr/settlement.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { dashboardSession, expectAccessible, screenshot } from './browser.js';

const ui = dashboardSession({ fleet: true, commandSweepMs: 200 });
const { open } = ui;

describe('dashboard', () => {
  it('opens on the overview with the simulated VENs, the site and the Winter River nodes, no sign-in on loopback', async () => {
    await open('/');
    for (const ven of ['ven-001', 'ven-002', 'ven-003'])
      await ui.page.getByRole('link', { name: ven, exact: true }).waitFor();
    await ui.page.getByText('Gateway Test Site').waitFor();
    for (const node of ['pdu_a', 'ups_a', 'srv_a']) await ui.page.getByText(new RegExp(`^${node}: `)).waitFor();
    await ui.page.getByText('3 / 3').waitFor({ timeout: 15_000 }); // online VENs tile
    await screenshot(ui.page, 'overview');
    await ui.page.getByRole('searchbox', { name: 'Search' }).fill('002');
    await ui.page.getByText('1 of 3').waitFor();
    expect(await ui.page.getByRole('link', { name: 'ven-001', exact: true }).count()).toBe(0);
    expect(ui.page.url()).toContain('q=002'); // the filter is in the link
    await expectAccessible(ui.page);
    expect(ui.errors).toEqual([]);
  }, 60_000); // the first page of a fresh clone: a cold browser profile and the fleet's first reports (30 s was not enough there)

  it('fits a tablet and is operable from the keyboard alone', async () => {
    await ui.page.setViewportSize({ width: 820, height: 1180 });
    await open('/vens/ven-001');
    await ui.page.getByRole('rowheader', { name: 'Main HVAC' }).waitFor({ timeout: 15_000 });
    expect(await ui.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(820);
    for (let i = 0; i < 40; i++) {
      await ui.page.keyboard.press('Tab');
      if (await ui.page.evaluate(() => document.activeElement?.textContent === 'Send event…')) break;
    }
    await ui.page.keyboard.press('Enter');
    await ui.page.getByRole('dialog', { name: 'Send a demand-response event?' }).waitFor();
    await ui.page.keyboard.press('Escape');
    await ui.page.getByRole('dialog').waitFor({ state: 'hidden' });
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'ven-tablet');
  });

  it('shows a VEN with its circuits and a telemetry chart with data', async () => {
    await open('/vens/ven-001');
    await ui.page.getByRole('rowheader', { name: 'Main HVAC' }).waitFor({ timeout: 15_000 });
    await ui.page.waitForFunction(
      () => Number(document.querySelector('figure.chart')?.getAttribute('data-points')) > 0,
      null,
      { timeout: 15_000 },
    );
    expect(await ui.page.locator('figure.chart canvas').count()).toBeGreaterThan(0);
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'ven');
  });

  it('sends an event from the VEN page after confirmation and shows the ACK', async () => {
    await open('/vens/ven-002');
    await ui.page.getByLabel('Shed (kW)').fill('3');
    await ui.page.getByLabel('Duration (s)').fill('60');
    await ui.page.getByRole('button', { name: 'Send event…' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Send a demand-response event?' });
    await dialog.waitFor();
    await expectAccessible(ui.page);
    await dialog.getByRole('button', { name: 'Send event' }).click();
    await ui.page.locator('.tracker[data-status="acked"]').waitFor({ timeout: 15_000 });
    expect(await ui.page.locator('.tracker').innerText()).toMatch(/acked in \d+ ms/);
  });

  it('shows a viewer the fleet but no command, dispatch or event form, with a note instead', async () => {
    // the token a non-loopback page asks for, as the sign-in form stores it
    await ui.page.addInitScript(
      (token) => sessionStorage.setItem('vpp.localToken', token),
      ui.stack.config.tokens.viewer,
    );
    const views: [string, string][] = [
      ['/vens/ven-001', 'Send event…'],
      ['/events', 'Preview allocation'],
      ['/sites', 'Preview'],
      ['/winter-river', 'Send…'],
    ];
    for (const [path, button] of views) {
      await open(path);
      const note = ui.page.getByTestId('role-note');
      await note.waitFor({ timeout: 15_000 });
      expect(await note.innerText()).toMatch(/^Signed in as viewer: .+ needs the operator role/);
      expect(await ui.page.getByRole('button', { name: button, exact: true }).count(), path).toBe(0);
      expect(await ui.page.locator('main form').count(), path).toBe(0);
    }
    await ui.page.getByRole('link', { name: 'Overview' }).click();
    await ui.page.getByRole('link', { name: 'ven-001', exact: true }).waitFor();
    await expectAccessible(ui.page);
    expect(ui.errors).toEqual([]);
  });

  it('shows a refused API input next to its field', async () => {
    await open('/vens/ven-002');
    await ui.page.getByLabel('Shed (kW)').fill('-1');
    await ui.page.getByLabel('Shed (kW)').evaluate((el: HTMLInputElement) => el.removeAttribute('min'));
    await ui.page.getByRole('button', { name: 'Send event…' }).click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Send event' }).click();
    await ui.page.locator('.field-error').filter({ hasText: 'shed_kw' }).waitFor();
  });

  it('dispatches a site after a clamped preview and shows the gateway split', async () => {
    await open('/sites');
    await ui.page.getByRole('rowheader', { name: /GT-BESS-A/ }).waitFor();
    await ui.page.getByLabel('Target').selectOption({ label: 'Gateway Test Site (site)' });
    await ui.page.getByLabel('Setpoint (MW)').fill('50');
    await ui.page.getByRole('button', { name: 'Preview' }).click();
    const preview = ui.page.getByLabel('Dispatch preview');
    await preview.getByText('clamped to the limits').waitFor();
    expect(await preview.innerText()).toMatch(/9\.5 MW/); // the site's max_mw: 6 + 2 + 1.5
    await preview.getByRole('button', { name: 'Dispatch…' }).click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Dispatch' }).click();
    await ui.page.locator('.tracker[data-status="acked"]').waitFor({ timeout: 15_000 });
    const split = ui.page.getByRole('table', { name: 'Split reported by the gateway' });
    for (const asset of ['gt-bess-a', 'gt-bess-b', 'gt-bess-c'])
      await split.getByRole('rowheader', { name: asset }).waitFor();
    for (const column of ['Requested', 'Applied', 'Why'])
      await split.getByRole('columnheader', { name: column }).waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'sites');
  });

  it('plans a fleet event, sends it, and follows acknowledged then measured shed', async () => {
    await open('/events');
    await ui.page.getByLabel('Shed (kW)').fill('6');
    await ui.page.getByLabel('Duration (s)').fill('120');
    await ui.page.getByRole('button', { name: 'Preview allocation' }).click();
    const plan = ui.page.getByLabel('Allocation preview');
    await plan.getByText('covered within 10%').waitFor();
    expect(await plan.getByRole('rowheader').count()).toBeGreaterThan(0);
    await plan.getByRole('button', { name: 'Send event…' }).click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Send event' }).click();
    await ui.page.waitForURL(/\/events\/[^/]+$/);
    await ui.page.waitForFunction(
      () => !/—|^0 kW/.test(document.querySelector('[data-testid="acknowledged"]')?.textContent ?? '—'),
      null,
      { timeout: 15_000 },
    );
    await ui.page.waitForFunction(
      () => (document.querySelector('[data-testid="measured"]')?.textContent ?? '—') !== '—',
      null,
      { timeout: 30_000 },
    );
    // per interval: the fleet's baseline, metered load and shed against the request, not judged while it runs
    const intervals = ui.page.getByRole('table', { name: 'Performance per interval' });
    const first = intervals.getByRole('row').nth(1);
    await first.getByText(/^running$/).waitFor({ timeout: 15_000 });
    const cells = await first.getByRole('cell').allTextContents();
    expect(cells[4]).toBe('6 kW'); // the commitment: the request
    // the CSV is written when the event settles: until then the page says so; settled here at once (the sweep would
    // 5 minutes after the end), then the link the API hands over with the session's token downloads it from S3
    await ui.page.getByText('The report CSV is written when the event is settled').waitFor();
    const eventId = ui.page.url().split('/').pop()!;
    await settleEvent((await ui.stack.ports.fleetEvents.get(eventId))!, ui.stack.ports, Date.now());
    await ui.page.reload();
    const [download] = await Promise.all([
      ui.page.waitForEvent('download'),
      ui.page.getByRole('button', { name: 'Download report (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${eventId}.csv`);
    const csv = (await readFile(await download.path(), 'utf8')).split('\r\n');
    expect(csv[0]).toBe(
      'scope,venId,interval_start,interval_end,samples,expected_samples,baseline_kw,metered_kw,shed_kw,commitment_kw,pass,result,baseline_method,baseline_days,adjustment_factor',
    );
    // settled here while its interval still ran (a test's shortcut): `running`, no verdict
    expect(csv[1]).toMatch(/^fleet,,[^,]+,[^,]+,\d+,\d+,[\d.]+,[\d.]+,[\d.-]+,6,,running,,,$/);
    expect(csv.filter((line) => line.startsWith('ven,ven-00')).length).toBeGreaterThan(0);
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'event');
    await ui.page.getByRole('link', { name: 'DR events' }).click();
    await ui.page.getByRole('table').getByRole('link').first().waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'events');
    // a second preview while it runs: its VENs are named as committed to it, not planned again
    await ui.page.getByLabel('Shed (kW)').fill('6');
    await ui.page.getByRole('button', { name: 'Preview allocation' }).click();
    const committed = ui.page.getByLabel('Already committed');
    await committed.waitFor();
    expect(await committed.textContent()).toMatch(
      new RegExp(
        `^Already committed to other events in this window \\(not allocated again\\): ven-00\\d [\\d.]+ kW to ${eventId} until `,
      ),
    );
  }, 60_000);

  it('turns a Winter River node red when it is set to fault, without a reload, and the chain beside shows what lost power', async () => {
    await open('/winter-river');
    const node = ui.page.getByRole('listitem', { name: /^pdu_a:/ });
    await node.and(ui.page.locator('[data-status="ok"]')).waitFor({ timeout: 15_000 });
    const chain = ui.page.getByRole('list', { name: 'Power chain' });
    const chainNode = (id: string, kind: string, state: string) =>
      chain.getByRole('listitem', { name: `${id} (${kind}) ${state}`, exact: true });
    await chainNode('srv_a', 'server', 'on utility').waitFor({ timeout: 15_000 });
    await chainNode('util_a', 'utility', 'on utility').waitFor();
    const okColour = await node.evaluate((el) => getComputedStyle(el).backgroundColor);
    await ui.page.getByRole('combobox', { name: /^Node/ }).selectOption('pdu_a');
    await ui.page.getByRole('combobox', { name: /^Command/ }).selectOption({ label: 'Set fault' });
    await ui.page.getByRole('button', { name: 'Send…' }).click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Send command' }).click();
    await node.and(ui.page.locator('[data-status="fault"]')).waitFor({ timeout: 15_000 });
    await ui.page.waitForFunction(
      (before) => getComputedStyle(document.querySelector('li.node[data-status="fault"]')!).backgroundColor !== before,
      okColour,
    );
    // the controller's view: the faulted PDU and the server below it have no power, the UPS above it still does
    await chainNode('pdu_a', 'pdu', 'no power').waitFor({ timeout: 15_000 });
    await chainNode('srv_a', 'server', 'no power').waitFor();
    await chainNode('ups_a', 'ups', 'on utility').waitFor();
    await ui.page
      .getByRole('list', { name: 'Power events' })
      .getByText(/srv_a: power lost/)
      .first()
      .waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'winter-river');
    await ui.page.getByRole('combobox', { name: /^Command/ }).selectOption({ label: 'Clear fault' });
    await ui.page.getByRole('button', { name: 'Send…' }).click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Send command' }).click();
    await node.and(ui.page.locator('[data-status="ok"]')).waitFor({ timeout: 15_000 });
    await chainNode('srv_a', 'server', 'on utility').waitFor({ timeout: 15_000 });
    expect(ui.errors).toEqual([]);
  });

  it('lists a refused message with its reason, device and topic', async () => {
    ui.stack.deliverToRules(topics.metering, Buffer.from('{"venId": "ven-003", "timestamp": '), 'ven-003');
    await open('/refused');
    const row = ui.page.getByRole('row').filter({ hasText: 'malformed-json' }).filter({ hasText: 'ven-003' });
    await row.first().waitFor({ timeout: 15_000 });
    expect(await row.first().innerText()).toContain(topics.metering);
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'refused');
  });

  it('renders device strings as text, never as HTML', async () => {
    const html = '<img src=x onerror="window.__pwned=1">';
    ui.stack.deliverToRules(topics.metering, Buffer.from(JSON.stringify({ venId: html })), 'ven-003');
    await open('/refused');
    await ui.page.getByText('malformed-json').first().waitFor();
    await ui.page
      .getByRole('row')
      .filter({ hasText: 'identity-mismatch' })
      .or(ui.page.getByRole('row').filter({ hasText: 'schema' }))
      .first()
      .waitFor({ timeout: 15_000 });
    expect(await ui.page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await ui.page.locator('img').count()).toBe(0);
  });

  it("shows each site's output, connection and readings from the REST routes with no live feed at all", async () => {
    await ui.page.routeWebSocket(/\/mqtt$/, (ws) => void ws.close({ code: 1011, reason: 'test: feed down' }));
    await ui.page.goto(`${ui.stack.config.apiUrl}/sites`);
    await ui.page.getByRole('status').filter({ hasText: 'Polling' }).waitFor({ timeout: 15_000 });
    const site = ui.page.getByRole('region', { name: 'Mixed DER Site' });
    await site.getByText(/\bconnected · last seen .* · output -?\d+(\.\d+)? MW/).waitFor({ timeout: 15_000 });
    for (const type of ['bess', 'pv', 'wind', 'ev']) {
      const row = site.getByRole('row').filter({ has: ui.page.getByRole('cell', { name: type, exact: true }) });
      await row
        .getByRole('cell')
        .nth(3)
        .filter({ hasText: /-?\d+(\.\d+)? MW/ })
        .waitFor();
    }
    await expectAccessible(ui.page);
    expect(ui.errors).toEqual([]);
  });

  it('shows the DER tiles by type on the overview from the portfolio', async () => {
    await open('/');
    const tiles = ui.page.getByRole('region', { name: 'DER by type' });
    for (const label of ['Batteries', 'PV', 'Wind', 'EV charging'])
      await tiles.getByText(label, { exact: true }).waitFor({ timeout: 15_000 });
    await tiles.getByText(/MWh to discharge/).waitFor();
    await expectAccessible(ui.page);
  });

  it('falls back to polling when the live feed drops, and goes live again when it returns', async () => {
    let blocked = false;
    const sockets: WebSocketRoute[] = [];
    await ui.page.routeWebSocket(/\/mqtt$/, (ws) => {
      if (blocked) return void ws.close({ code: 1011, reason: 'test: feed down' });
      ws.connectToServer();
      sockets.push(ws);
    });
    await open('/');
    blocked = true;
    for (const ws of sockets) await ws.close({ code: 1011, reason: 'test: feed down' });
    await ui.page.getByRole('status').filter({ hasText: 'Polling' }).waitFor();
    const polled = await ui.page.waitForRequest((r) => r.url().includes('/api/vens?'), { timeout: 10_000 });
    expect(polled.method()).toBe('GET');
    await screenshot(ui.page, 'polling');
    blocked = false;
    await ui.page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 20_000 });
  }, 45_000);
});
