// The dashboard as a control-room console, in Chromium against a real local stack with its simulated fleet: fleet
// trouble alarms at the top of every view, and an honest outage state while the API cannot be reached.
import { randomUUID } from 'node:crypto';
import type { Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { dashboardSession, expectAccessible, screenshot } from './browser.js';

const ui = dashboardSession({ fleet: true, commandSweepMs: 200 });

/** The IoT lifecycle event the broker sends when a device's connection ends (or starts again). */
const presence = (clientId: string, eventType: 'connected' | 'disconnected') =>
  ui.stack.deliverToRules(
    `$aws/events/presence/${eventType}/${clientId}`,
    Buffer.from(JSON.stringify({ clientId, timestamp: Date.now(), eventType, sessionIdentifier: randomUUID(), principalIdentifier: 'test', versionNumber: 0 })),
    undefined,
  );

/** Keeps the live feed down, so the page reads the fleet from the REST API alone (as the registry has it). */
const noLiveFeed = () => ui.page.routeWebSocket(/\/mqtt$/, (ws) => void ws.close({ code: 1011, reason: 'test: feed down' }));

const wrCommand = (nodeId: string, fault: boolean) =>
  ui.stack.api(`/api/winter-river/nodes/${nodeId}/command`, { method: 'POST', body: JSON.stringify({ command: 'set_fault', params: { state: fault } }) });

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
    await alarms.getByRole('alert').filter({ hasText: /^Winter River on (UPS|generator): / }).first().waitFor({ timeout: 30_000 });
    const count = ui.page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: /^\d+ alarms?$/ });
    expect(Number((await count.innerText()).split(' ')[0])).toBeGreaterThanOrEqual(2);
    // offline in a salient colour, not calm grey; the alarm links to where to look
    const row = ui.page.getByRole('row').filter({ hasText: 'ven-003' });
    await row.locator('.badge-bad').filter({ hasText: 'offline' }).waitFor();
    await screenshot(ui.page, 'alarms-overview');
    await expectAccessible(ui.page);
    await alarms.getByRole('alert').filter({ hasText: 'faulted' }).getByRole('link', { name: 'Open Winter River' }).click();
    await ui.page.waitForURL(/\/winter-river$/);
    await alarms.getByRole('alert').filter({ hasText: '1 of 3 VENs offline' }).waitFor(); // on every view
    await screenshot(ui.page, 'alarms-winter-river');
    await expectAccessible(ui.page);

    await presence('ven-003', 'connected');
    expect((await wrCommand('util_a', false)).status).toBe(202);
    await alarms.waitFor({ state: 'detached', timeout: 30_000 });
    expect(await count.count()).toBe(0);
  }, 90_000);

  it('says "API unreachable since" with the values dimmed as of their time, and returns to normal by itself', async () => {
    await noLiveFeed();
    await ui.page.goto(`${ui.stack.config.apiUrl}/`);
    await ui.page.getByText(/^\d \/ 3$/).waitFor({ timeout: 20_000 });
    const down = (route: Route) => route.abort('connectionrefused');
    await ui.page.route('**/api/**', down);
    const status = ui.page.getByRole('status').filter({ hasText: /^API unreachable since \d\d:\d\d:\d\d$/ });
    await status.waitFor({ timeout: 15_000 });
    expect(await ui.page.getByRole('status').filter({ hasText: 'Polling' }).count()).toBe(0);
    const banner = ui.page.getByRole('alert').filter({ hasText: /^API unreachable since \d\d:\d\d:\d\d\. Values below are as of \d\d:\d\d:\d\d/ });
    await banner.waitFor();
    expect(await ui.page.locator('main.stale-data').count()).toBe(1);
    expect(await ui.page.locator('main .tiles').first().evaluate((el) => getComputedStyle(el).filter)).toBe('grayscale(1)');
    await screenshot(ui.page, 'api-unreachable');
    await expectAccessible(ui.page);

    await ui.page.unroute('**/api/**', down);
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await ui.page.getByRole('status').filter({ hasText: 'Polling' }).waitFor();
    expect(await ui.page.locator('main.stale-data').count()).toBe(0);
  }, 60_000);
});
