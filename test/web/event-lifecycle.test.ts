// An event's life cycle in a real browser against a real local stack: the events list with names, statuses and
// results; a scheduled event cancelled and a running one ended from the event page, each through its preview (a dry
// run) and a confirm dialog that can be backed out of.
import { beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { dashboardSession, expectAccessible, screenshot } from './browser.js';

const ui = dashboardSession({ commandSweepMs: 200 });
let ven: TestDevice;

beforeAll(async () => {
  ven = await connectDevice(await ui.stack.provision('ven-ui'), 'ven-ui');
  await ven.subscribe(topics.command('ven-ui'));
  const metering = {
    venId: 'ven-ui',
    timestamp: Math.floor(Date.now() / 1000),
    usedPowerKw: 7,
    baselinePowerKw: 10,
    loads: [{ loadId: 'hvac', currentPowerKw: 3, shedCapabilityKw: 3, enabled: true, priority: 2 }],
  };
  await ven.publish(topics.metering, JSON.stringify(metering));
  await eventually(async () => (await ui.stack.api('/api/vens/ven-ui')).body?.latest?.availableShedKw === 3);
  return () => ven.close();
}, 60_000);

const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body) });
const statusOf = async (eventId: string) => (await ui.stack.api(`/api/events/${eventId}`)).body.status;

describe('event life cycle in the dashboard', () => {
  it('cancels a scheduled event from its page, after a confirm that can be backed out of', async () => {
    const start_at = new Date(Date.now() + 30 * 60_000).toISOString();
    const created = await ui.stack.api(
      '/api/events',
      post({ shed_kw: 3, duration_sec: 600, ven_ids: ['ven-ui'], start_at, name: 'Evening peak' }),
    );
    expect(created.status).toBe(202);
    const { eventId } = created.body;

    await ui.open('/events');
    const row = ui.page.getByRole('table', { name: 'Events' }).getByRole('row').filter({ hasText: 'Evening peak' });
    await row.getByText('scheduled', { exact: true }).waitFor();
    await row.getByText('none yet').waitFor();
    await row.getByRole('link', { name: 'Evening peak' }).click();
    await ui.page.getByRole('heading', { level: 1, name: 'Evening peak' }).waitFor();

    await ui.page.getByRole('button', { name: 'Cancel event…' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Cancel this scheduled event?' });
    await dialog.getByText('Nothing has been sent. 1 VEN freed for other events; nothing is settled.').waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'event-cancel-confirm');
    // backing out changes nothing
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await statusOf(eventId)).toBe('scheduled');

    await ui.page.getByRole('button', { name: 'Cancel event…' }).click();
    await dialog.getByRole('button', { name: 'Cancel event' }).click();
    await ui.page.getByText('cancelled', { exact: true }).waitFor();
    expect(await statusOf(eventId)).toBe('cancelled');
    expect(await ui.page.getByRole('button', { name: 'Cancel event…' }).count()).toBe(0);
    expect(ven.received.filter((m) => m.payload.includes(eventId))).toEqual([]);
    expect(ui.errors).toEqual([]);
  }, 60_000);

  it('ends a running event from its page: the VEN is sent its restore and the event shows ended', async () => {
    const created = await ui.stack.api(
      '/api/events',
      post({ shed_kw: 3, duration_sec: 3600, ven_ids: ['ven-ui'], name: 'Long shed' }),
    );
    expect(created.status).toBe(202);
    const { eventId } = created.body;
    await eventually(() => ven.received.some((m) => m.payload.includes(eventId)));

    await ui.open(`/events/${eventId}`);
    await ui.page.getByRole('heading', { level: 1, name: 'Long shed' }).waitFor();
    // an interval still running says so, with its readings so far
    await ui.page
      .getByRole('table', { name: 'Performance per interval' })
      .getByText('running', { exact: true })
      .waitFor();
    await ui.page.getByRole('button', { name: 'End event now…' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'End this event now?' });
    await dialog.getByText('1 VEN will be sent a restore now').waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'event-end-confirm');
    await dialog.getByRole('button', { name: 'End event' }).click();
    await ui.page.getByText('ended', { exact: true }).first().waitFor();
    await eventually(() => ven.received.some((m) => JSON.parse(m.payload).op === 'restore'));
    expect(await statusOf(eventId)).toBe('ended');
    expect(await ui.page.getByRole('button', { name: 'End event now…' }).count()).toBe(0);
    await screenshot(ui.page, 'event-ended');

    await ui.page.getByRole('link', { name: 'DR events' }).click();
    const row = ui.page.getByRole('table', { name: 'Events' }).getByRole('row').filter({ hasText: 'Long shed' });
    await row.getByText('ended', { exact: true }).waitFor();
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'events-list');
    expect(ui.errors).toEqual([]);
  }, 60_000);
});
