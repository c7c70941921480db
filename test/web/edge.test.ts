// The Edge nodes view in a real browser against a real local stack: a real edge agent (the device SDK over mutual TLS)
// online with its draw, SOC and host figures, a node that is not connected shown offline, loudly, its device strings
// rendered as text; a discharge sent through its preview (a dry run) and confirm, and seen acknowledged by the agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../device/fleet.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually, startStackFleet } from '../e2e/helpers.js';
import { fixture } from '../fixture.js';
import { dashboardSession, expectAccessible, screenshot } from './browser.js';

const ui = dashboardSession({ commandSweepMs: 200 });
const AGENT = 'dc-ui-01';
const OFFLINE = 'dc-ui-off';
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startStackFleet(ui.stack, [{ mode: 'edge', thingName: AGENT }], {
    intervals: { edgeMs: 500 },
    reconnectMinSec: 1,
    reconnectMaxSec: 1,
  });
  // heard once through the rules, never connected: offline
  const sent = fixture('edge-telemetry') as Record<string, unknown> & { meta: Record<string, unknown> };
  const payload = {
    ...sent,
    dc_id: OFFLINE,
    timestamp: Math.floor(Date.now() / 1000),
    meta: { ...sent.meta, location: HOSTILE },
  };
  await ui.stack.deliverToRules(topics.edgeTelemetry(OFFLINE), Buffer.from(JSON.stringify(payload)), OFFLINE);
  await eventually(async () => {
    const items = (await ui.stack.api('/api/edge')).body?.items as { dcId: string; online: boolean }[] | undefined;
    return items?.some((n) => n.dcId === AGENT && n.online) && items.some((n) => n.dcId === OFFLINE);
  }, 20_000);
}, 60_000);

afterAll(() => fleet?.stop());

describe('the Edge nodes view', () => {
  it('lists each node with its state (offline loud), draw, SOC and host; sends a discharge and sees it acknowledged', async () => {
    await ui.open('/');
    await ui.page.getByRole('link', { name: 'Edge nodes' }).click();
    await ui.page.getByRole('heading', { level: 1, name: 'Edge nodes' }).waitFor();
    const table = ui.page.getByRole('table', { name: 'Edge nodes' });
    const agentRow = table.getByRole('row').filter({ hasText: AGENT });
    await agentRow.getByText('online', { exact: true }).waitFor();
    const offRow = table.getByRole('row').filter({ hasText: OFFLINE });
    await offRow.getByText('offline', { exact: true }).waitFor();
    expect(await offRow.getAttribute('class')).toContain('row-offline');
    // the fixture's figures, as sent
    await offRow.getByText('142.4 kW').waitFor();
    await offRow.getByText('71.3 %').waitFor();
    await offRow.getByText('215.4 kWh').waitFor();
    await offRow.getByText('38 %').waitFor(); // cpu 37.5
    // a device string is text, never markup
    await offRow.getByText(HOSTILE, { exact: true }).waitFor();
    expect(await ui.page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await offRow.locator('img').count()).toBe(0);
    // the totals count the edge nodes
    const totals = ui.page.getByRole('region', { name: 'Edge totals' });
    await totals.getByText('1 / 2').waitFor();

    await ui.page.locator('select[name="dcId"]').selectOption(AGENT);
    await ui.page.locator('select[name="action"]').selectOption('discharge');
    await ui.page.locator('input[name="kw"]').fill('10');
    await ui.page.getByRole('button', { name: 'Preview' }).click();
    const preview = ui.page.getByLabel('Command preview');
    await preview.getByText(topics.edgeControl(AGENT)).waitFor();
    await preview.getByText('{"action":"discharge","params":{"kw":10}}').waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'edge-nodes');

    await preview.getByRole('button', { name: 'Send…' }).click();
    const dialog = ui.page.getByRole('dialog', { name: `Discharge 10 kW on ${AGENT}?` });
    await dialog.getByRole('button', { name: 'Send command' }).click();
    const tracker = ui.page.locator('.tracker').filter({ hasText: `Discharge 10 kW on ${AGENT}` });
    await tracker.getByText('acked', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await tracker.getAttribute('data-status')).toBe('acked');
    await screenshot(ui.page, 'edge-command-acked');

    // the platform holds the same: the discharge to the node, acknowledged by the agent with its new battery power
    const correlationId = /\(([^)]+)\)\s*$/.exec(await tracker.innerText())?.[1];
    const command = (await ui.stack.api(`/api/commands/${correlationId}`)).body;
    expect(command).toMatchObject({ target: AGENT, status: 'acked', ack: { action: 'discharge', status: 'accepted' } });
    expect(ui.errors).toEqual([]);
  }, 60_000);

  it("shows the edge batteries' discharge beside a fleet event's allocation preview", async () => {
    await ui.open('/events');
    await ui.page.locator('input[name="shed_kw"]').fill('5');
    await ui.page.locator('input[name="duration_sec"]').fill('3600');
    await ui.page.getByRole('button', { name: 'Preview allocation' }).click();
    const line = ui.page.getByTestId('edge-capacity');
    await line.getByText(/Edge batteries could add .* kW through this window/).waitFor();
    expect(await line.innerText()).toContain(AGENT);
    expect(await line.innerText()).not.toContain(OFFLINE);
    await line.getByRole('link', { name: 'Edge nodes' }).waitFor();
    expect(ui.errors).toEqual([]);
  }, 60_000);
});
