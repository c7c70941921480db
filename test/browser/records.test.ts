// The dashboard's record views in Chromium against a real local stack with its simulated fleet: a node's ledger with
// its settlements and the chain check (intact, then broken after an edit behind the API), page by page.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { documentClient } from '../../lambdas/core/adapters.js';
import { dashboardSession, expectAccessible, screenshot } from './browser.js';

const ui = dashboardSession({ fleet: true });
const { open } = ui;

const append = async (nodeId: string, type: string, ref: string, data: Record<string, unknown>) => {
  const res = await ui.stack.api('/api/transactions', { method: 'POST', body: JSON.stringify({ nodeId, type, ref, data }) });
  expect(res.status).toBe(201);
  return res.body as { seq: number };
};

describe('ledger', () => {
  it('shows a VEN’s settlements and its chain intact, reached from the VEN’s ui.page, then names the entry edited behind the API', async () => {
    await append('ven-001', 'bid', 'bid-1', { kw: 4, price: 0.3 });
    const settled = await append('ven-001', 'settlement', 'evt-42', { eventId: 'evt-42', delivered_kwh: 12.5, tariff_per_kwh: 0.2, amount: 2.5, currency: 'EUR' });
    await append('ven-001', 'payment', '<img src=x onerror="window.__pwned=1">', { note: '<b>paid</b>' });
    const unpriced = { eventId: 'evt-43', delivered_kwh: 3, tariff_per_kwh: null, amount: null, currency: null, note: 'no tariff in the VEN metadata' };
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
    expect(await settlement.getByRole('cell').nth(3).innerText()).toBe('event evt-42 · delivered 12.5 kWh × 0.2 EUR/kWh = 2.5 EUR');
    expect(await settlement.getByRole('link', { name: 'evt-42' }).getAttribute('href')).toBe('/events/evt-42');
    expect(await rows.filter({ hasText: 'evt-43' }).getByRole('cell').nth(3).innerText()).toBe('event evt-43 · delivered 3 kWh × — = — (no tariff in the VEN metadata)');
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
    expect(await result.innerText()).toMatch(/its content does not match its hash \(edited\)\. The entries before it check \(head seq 1, hash [0-9a-f]{64}\)\./);
    // the list re-read: the edited amount, its row marked
    await settlement.getByText('fails the check').waitFor();
    expect(await settlement.getByTestId('amount').innerText()).toBe('2,500 EUR');
    await expectAccessible(ui.page);
    await screenshot(ui.page, 'ledger-broken');
    expect(ui.errors).toEqual([]);
  });

  it('pages through a long ledger newest first, from the Ledger entry in the navigation', async () => {
    for (let n = 1; n <= 53; n++) await append('gt-bess-a', 'settlement', `evt-${n}`, { eventId: `evt-${n}`, delivered_kwh: n, tariff_per_kwh: 0.1, amount: n / 10, currency: 'EUR' });
    await open('/');
    await ui.page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Ledger' }).click();
    await ui.page.getByRole('navigation', { name: 'Ledgers of the VENs' }).getByRole('link', { name: 'ven-002' }).waitFor();
    await ui.page.getByLabel('Node id').fill('gt-bess-a');
    await ui.page.getByRole('button', { name: 'Show ledger' }).click();
    const rows = ui.page.getByRole('table', { name: 'Ledger entries' }).getByRole('rowheader');
    await ui.page.getByTestId('verify-result').getByText('intact').waitFor();
    await rows.first().waitFor();
    expect(await rows.allInnerTexts()).toEqual(Array.from({ length: 50 }, (_, i) => String(53 - i)));
    await ui.page.getByRole('button', { name: 'Older' }).click();
    await ui.page.waitForFunction(() => document.querySelectorAll('table[aria-label="Ledger entries"] tbody tr').length === 3);
    expect(await rows.allInnerTexts()).toEqual(['3', '2', '1']);
    expect(await ui.page.getByRole('button', { name: 'Older' }).count()).toBe(0);
    await ui.page.getByRole('button', { name: 'Newer' }).click();
    await ui.page.waitForFunction(() => document.querySelectorAll('table[aria-label="Ledger entries"] tbody tr').length === 50);
    await expectAccessible(ui.page);
    expect(ui.errors).toEqual([]);
  });

  it('says so for a node with no entries, and names the field of an id the API refuses', async () => {
    await open('/ledger/no-such-node');
    await ui.page.getByText('No entries for no-such-node.').waitFor();
    await ui.page.getByTestId('verify-result').getByText('Nothing to check').waitFor();
    await open('/ledger/bad%20id');
    await ui.page.getByRole('alert').first().getByText(/nodeId/).waitFor();
    await expectAccessible(ui.page);
  });
});
