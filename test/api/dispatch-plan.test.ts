// Dispatch routing and clamping, the inventory file and the time-out sweep: pure over their inputs and ports.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expireCommands } from '../../lambdas/core/commands/command-timeouts.js';
import { clampMw, routeDispatch } from '../../lambdas/core/commands/dispatch.js';
import { parseInventory, type InventoryAsset } from '../../lambdas/core/contracts/inventory.js';
import type { CommandStore } from '../../lambdas/core/commands/command-store.js';
import { INVENTORY_FIXTURE } from './stack.js';

const inventory = (() => {
  const result = parseInventory(readFileSync(INVENTORY_FIXTURE, 'utf8'));
  if (!result.ok) throw new Error(result.message);
  return result;
})();
const asset = (id: string) => inventory.assets.find((a) => a.asset_id === id) as InventoryAsset;
const site = (id: string) => inventory.sites.find((s) => s.site_id === id)!;

describe('routeDispatch', () => {
  it('clamps an asset setpoint to its own limits, both ways', () => {
    expect(routeDispatch(5, { asset: asset('a-bess-2') })).toEqual({
      gateway: 'gw-a',
      target: { asset_id: 'a-bess-2' },
      mw_requested: 5,
      mw_sent: 2,
      clamped: true,
    });
    expect(routeDispatch(-5, { asset: asset('a-bess-2') })).toMatchObject({ mw_sent: -1, clamped: true });
    expect(routeDispatch(1.25, { asset: asset('a-bess-2') })).toMatchObject({ mw_sent: 1.25, clamped: false });
  });

  it('clamps a site setpoint to the sums of its assets and routes it to the site gateway', () => {
    expect(site('site-a')).toMatchObject({
      min_mw: -5,
      max_mw: 6,
      capacity_mw: 6,
      asset_ids: ['a-bess-1', 'a-bess-2'],
    });
    expect(routeDispatch(10, { site: site('site-a') })).toEqual({
      gateway: 'gw-a',
      target: { site_id: 'site-a' },
      mw_requested: 10,
      mw_sent: 6,
      clamped: true,
    });
    expect(routeDispatch(-10, { site: site('site-a') })).toMatchObject({ mw_sent: -5 });
    expect(routeDispatch(0.5, { site: site('site-b') })).toMatchObject({
      gateway: 'gw-silent',
      mw_sent: 0.5,
      clamped: false,
    });
  });

  it('rounds to the kW', () => {
    expect(clampMw(1.23456, -2, 2)).toBe(1.235);
  });
});

describe('parseInventory', () => {
  it("reads the gateway agent's own example, one format for both sides", () => {
    const example = parseInventory(
      readFileSync(new URL('../../device/inventory.example.yaml', import.meta.url), 'utf8'),
    );
    expect(example).toMatchObject({
      ok: true,
      sites: [
        { site_id: 'site-gt', gateway: 'gw-site-gt', asset_ids: ['gt-bess-a', 'gt-bess-b', 'gt-bess-c'] },
        {
          site_id: 'site-mx',
          gateway: 'gw-site-mx',
          asset_ids: ['mx-bess-1', 'mx-ev-1', 'mx-pv-1', 'mx-wind-1'],
          min_mw: -5.2,
          max_mw: 11.5,
        },
      ],
    });
  });

  it('names the field at fault', () => {
    const site = 'sites:\n  - site_id: s\n    gateway_id: gw\n';
    const cases: [string, string][] = [
      ['sites: [', '(root)'],
      ['sites: []', 'sites'],
      [`${site}assets:\n  - { asset_id: a, site_id: s, capacity_mw: 1, min_mw: -1, max_mw: x }`, 'assets.0.max_mw'],
      [`${site}assets:\n  - { asset_id: a, site_id: t, capacity_mw: 1, min_mw: -1, max_mw: 1 }`, 'assets.0.site_id'],
      [`${site}assets:\n  - { asset_id: a, site_id: s, capacity_mw: 1, min_mw: 2, max_mw: 1 }`, 'assets.0.min_mw'],
      [`${site}assets:\n  - { asset_id: a, site_id: s, min_mw: -1, max_mw: 1 }`, 'assets.0.capacity_mw'],
      [
        `${site}assets:\n  - { asset_id: a, site_id: s, capacity_mw: 1, min_mw: -1, max_mw: 1 }\n  - { asset_id: a, site_id: s, capacity_mw: 1, min_mw: -1, max_mw: 1 }`,
        'assets.1.asset_id',
      ],
      [site, 'sites.0.assets'],
      [
        'sites:\n  - site_id: s\n    assets: [{ asset_id: a, capacity_mw: 1, min_mw: -1, max_mw: 1 }]',
        'sites.0.gateway_id',
      ],
    ];
    for (const [text, field] of cases) expect(parseInventory(text), text).toMatchObject({ ok: false, field });
  });
});

describe('expireCommands', () => {
  it('times out only what is still sent, so an ACK that got there first wins', async () => {
    const status = new Map<string, string>([
      ['a', 'sent'],
      ['b', 'acked'],
      ['c', 'sent'],
    ]);
    const due = ['a', 'b', 'c'];
    const store = {
      listDue: async (_now: number, page: { limit: number; next?: string }) => {
        const from = page.next ? Number(page.next) : 0;
        const items = due.slice(from, from + 2).map((correlationId) => ({ correlationId, expiresAt: 0 }));
        return { items, ...(from + 2 < due.length && { next: String(from + 2) }) };
      },
      timeOut: async (id: string) => {
        if (status.get(id) !== 'sent') return false;
        status.set(id, 'timed-out');
        return true;
      },
    } as unknown as CommandStore;
    expect(await expireCommands(store, Date.now())).toEqual(['a', 'c']);
    expect([...status.values()]).toEqual(['timed-out', 'acked', 'timed-out']);
  });
});
