// The dashboard as a control-room console, in Chromium against a real local stack with its simulated fleet: fleet
// trouble alarms at the top of every view, an honest outage state while the API cannot be reached, and commands sent
// once however often the operator retries after the network failed.
import { randomUUID } from 'node:crypto';
import type { Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually } from '../e2e/helpers.js';
import { dashboardSession, expectAccessible, screenshot } from './browser.js';

const ui = dashboardSession({ fleet: true, commandSweepMs: 200 });

/** The IoT lifecycle event the broker sends when a device's connection ends (or starts again). */
const presence = (clientId: string, eventType: 'connected' | 'disconnected') =>
  ui.stack.deliverToRules(
    `$aws/events/presence/${eventType}/${clientId}`,
    Buffer.from(
      JSON.stringify({
        clientId,
        timestamp: Date.now(),
        eventType,
        sessionIdentifier: randomUUID(),
        principalIdentifier: 'test',
        versionNumber: 0,
      }),
    ),
    undefined,
  );

/** Keeps the live feed down, so the page reads the fleet from the REST API alone (as the registry has it). */
const noLiveFeed = () =>
  ui.page.routeWebSocket(/\/mqtt$/, (ws) => void ws.close({ code: 1011, reason: 'test: feed down' }));

const wrCommand = (nodeId: string, fault: boolean) =>
  ui.stack.api(`/api/winter-river/nodes/${nodeId}/command`, {
    method: 'POST',
    body: JSON.stringify({ command: 'set_fault', params: { state: fault } }),
  });

describe('console alarms', () => {
  it('alarms in operators’ words at the top of every view when a VEN drops out or a Winter River node faults', async () => {
    await noLiveFeed();
    await ui.page.goto(`${ui.stack.config.apiUrl}/`);
    await ui.page.getByText('3 / 3').waitFor({ timeout: 20_000 });
    await ui.page.getByText(/^util_a: ok/).waitFor({ timeout: 20_000 }); // registered: it has reported
    expect(await ui.page.getByRole('region', { name: 'Alarms' }).count()).toBe(0); // a healthy fleet is quiet

    await presence('ven-003', 'disconnected');
    expect((await wrCommand('util_a', true)).status).toBe(202);
    const alarms = ui.page.getByRole('region', { name: 'Alarms' });
    await alarms.getByRole('alert').filter({ hasText: '1 of 3 VENs offline' }).waitFor({ timeout: 20_000 });
    await alarms.getByRole('alert').filter({ hasText: 'Winter River: util_a faulted' }).waitFor({ timeout: 20_000 });
    // the controller moves the chain below the dead utility onto the UPS battery, then the generator
    await alarms
      .getByRole('alert')
      .filter({ hasText: /^Winter River on (UPS|generator): / })
      .first()
      .waitFor({ timeout: 30_000 });
    const count = ui.page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: /^\d+ alarms?$/ });
    expect(Number((await count.innerText()).split(' ')[0])).toBeGreaterThanOrEqual(2);
    // offline in a salient colour, not calm grey; the alarm links to where to look
    const row = ui.page.getByRole('row').filter({ hasText: 'ven-003' });
    await row.locator('.badge-bad').filter({ hasText: 'offline' }).waitFor();
    await screenshot(ui.page, 'alarms-overview');
    await expectAccessible(ui.page);
    await alarms
      .getByRole('alert')
      .filter({ hasText: 'faulted' })
      .getByRole('link', { name: 'Open Winter River' })
      .click();
    await ui.page.waitForURL(/\/winter-river$/);
    await alarms.getByRole('alert').filter({ hasText: '1 of 3 VENs offline' }).waitFor(); // on every view
    await screenshot(ui.page, 'alarms-winter-river');
    await expectAccessible(ui.page);

    await presence('ven-003', 'connected');
    expect((await wrCommand('util_a', false)).status).toBe(202);
    await alarms.waitFor({ state: 'detached', timeout: 30_000 });
    expect(await count.count()).toBe(0);
  }, 90_000);

  it('names a VEN drop-out during a fleet event as critical and links to the event', async () => {
    await noLiveFeed();
    const started = await ui.stack.api('/api/events', {
      method: 'POST',
      body: JSON.stringify({ shed_kw: 2, duration_sec: 120, ven_ids: ['ven-002'] }),
    });
    expect(started.status).toBe(202);
    const eventId = started.body.eventId as string;
    // the VEN's newest reading carries the event (what the dashboard knows of it)
    await eventually(async () => (await ui.stack.api('/api/vens/ven-002')).body.latest?.eventId === eventId, 30_000);
    await ui.page.goto(`${ui.stack.config.apiUrl}/sites`);
    await presence('ven-002', 'disconnected');
    const alarm = ui.page
      .getByRole('region', { name: 'Alarms' })
      .getByRole('alert')
      .filter({ hasText: `1 of 3 VENs offline during event ${eventId}` });
    await alarm.waitFor({ timeout: 20_000 });
    expect(await alarm.getAttribute('data-alarm')).toBe(`vens-offline-event:${eventId}`);
    expect(await alarm.getAttribute('class')).toContain('alarm-critical');
    expect(await alarm.getByRole('link', { name: 'Open the event' }).getAttribute('href')).toBe(`/events/${eventId}`);
    await screenshot(ui.page, 'alarms-event-dropout');
    await expectAccessible(ui.page);
    await presence('ven-002', 'connected');
    await ui.stack.api('/api/vens/ven-002/restore', { method: 'POST', body: '{}' });
    await alarm.waitFor({ state: 'detached', timeout: 20_000 });
  }, 60_000);

  it('says "API unreachable since" with the values dimmed as of their time, and returns to normal by itself', async () => {
    await noLiveFeed();
    await ui.page.goto(`${ui.stack.config.apiUrl}/`);
    await ui.page.getByText(/^\d \/ 3$/).waitFor({ timeout: 20_000 });
    const down = (route: Route) => route.abort('connectionrefused');
    await ui.page.route('**/api/**', down);
    const status = ui.page.getByRole('status').filter({ hasText: /^API unreachable since \d\d:\d\d:\d\d$/ });
    await status.waitFor({ timeout: 15_000 });
    expect(await ui.page.getByRole('status').filter({ hasText: 'Polling' }).count()).toBe(0);
    const banner = ui.page
      .getByRole('alert')
      .filter({ hasText: /^API unreachable since \d\d:\d\d:\d\d\. Values below are as of \d\d:\d\d:\d\d/ });
    await banner.waitFor();
    expect(await ui.page.locator('main.stale-data').count()).toBe(1);
    expect(
      await ui.page
        .locator('main .tiles')
        .first()
        .evaluate((el) => getComputedStyle(el).filter),
    ).toBe('grayscale(1)');
    await screenshot(ui.page, 'api-unreachable');
    await expectAccessible(ui.page);

    await ui.page.unroute('**/api/**', down);
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await ui.page.getByRole('status').filter({ hasText: 'Polling' }).waitFor();
    expect(await ui.page.locator('main.stale-data').count()).toBe(0);
  }, 60_000);

  it('sends a fleet event once when the operator retries after the response was lost, with one key and the button disabled meanwhile', async () => {
    const started = Date.now();
    await ui.stack.api('/api/vens/ven-003/restore', { method: 'POST', body: '{}' }); // not committed elsewhere
    await ui.page.goto(`${ui.stack.config.apiUrl}/events`);
    await ui.page.getByLabel('Shed (kW)').fill('4');
    await ui.page.getByLabel('Duration (s)').fill('60');
    await ui.page.getByRole('button', { name: 'Preview allocation' }).click();
    await ui.page.getByLabel('Allocation preview').getByRole('button', { name: 'Send event…' }).waitFor();

    const keys: (string | undefined)[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await ui.page.route('**/api/events', async (route) => {
      const body = route.request().postDataJSON() as { dry_run?: boolean } | null;
      if (route.request().method() !== 'POST' || body?.dry_run) return route.continue();
      keys.push(route.request().headers()['idempotency-key']);
      if (keys.length > 1) return route.continue();
      await route.fetch(); // the platform acts on it...
      await held;
      await route.abort('connectionreset'); // ...and the answer never reaches the operator
    });
    const sendButton = ui.page.getByLabel('Allocation preview').getByRole('button', { name: /^Send(ing)? event/ });
    await sendButton.click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Send event' }).click();
    await ui.page
      .getByLabel('Allocation preview')
      .getByRole('button', { name: 'Sending…' })
      .and(ui.page.locator(':disabled'))
      .waitFor();
    release();
    await ui.page.getByRole('alert').filter({ hasText: 'The API cannot be reached' }).waitFor({ timeout: 10_000 });

    await sendButton.click(); // the operator retries the same event
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Send event' }).click();
    await ui.page.waitForURL(/\/events\/[^/]+$/, { timeout: 15_000 });
    const shown = ui.page.url().split('/').pop();
    // the list is an index, eventually consistent as in AWS: once the event shown shows there, an event made before
    // it (the lost answer's, had the retry made a second) shows too
    const after = await eventually(async () => {
      const items = (await ui.stack.api('/api/events?limit=100')).body.items as {
        eventId: string;
        startedAt: string;
      }[];
      return items.some((e) => e.eventId === shown) && items;
    });
    const made = after.filter((e) => Date.parse(e.startedAt) >= started);
    expect(made.map((e) => e.eventId)).toEqual([shown]); // one fleet event, not two
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  }, 60_000);

  it('sends an Idempotency-Key with every command the dashboard sends', async () => {
    const keyed = new Map<string, string | undefined>();
    ui.page.on(
      'request',
      (r) => r.method() === 'POST' && keyed.set(new URL(r.url()).pathname, r.headers()['idempotency-key']),
    );
    await ui.page.goto(`${ui.stack.config.apiUrl}/vens/ven-001`);
    await ui.page.getByRole('button', { name: 'Restore…' }).click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
    await ui.page.locator('.tracker').first().waitFor({ timeout: 15_000 });
    await ui.page.goto(`${ui.stack.config.apiUrl}/winter-river`);
    await ui.page.getByRole('combobox', { name: /^Command/ }).selectOption({ label: 'Clear fault' });
    await ui.page.getByRole('button', { name: 'Send…' }).click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Send command' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'sent to' }).waitFor({ timeout: 15_000 });
    await ui.page.goto(`${ui.stack.config.apiUrl}/sites`);
    await ui.page.getByLabel('Setpoint (MW)').fill('1');
    await ui.page.getByRole('button', { name: 'Preview' }).click();
    await ui.page.getByLabel('Dispatch preview').getByRole('button', { name: 'Dispatch…' }).click();
    await ui.page.getByRole('dialog').getByRole('button', { name: 'Dispatch' }).click();
    await ui.page.locator('.tracker').first().waitFor({ timeout: 15_000 });
    for (const path of [
      '/api/vens/ven-001/restore',
      /\/api\/winter-river\/nodes\/[^/]+\/command/,
      '/dispatch',
    ] as const) {
      const hit = [...keyed].find(([p]) => (typeof path === 'string' ? p === path : path.test(p)));
      expect(hit?.[1], String(path)).toMatch(/^[0-9a-f-]{36}$/);
    }
  }, 45_000);
});
