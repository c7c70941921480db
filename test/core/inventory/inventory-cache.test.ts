// The der rule's inventory cache: found sites and assets are read once per TTL, misses and failures every time.
import { describe, expect, it } from 'vitest';
import { cachedInventory } from '../../../lambdas/core/inventory/inventory-cache.js';
import type { InventoryAsset, InventorySite } from '../../../lambdas/core/contracts/inventory.js';
import type { InventoryReader } from '../../../lambdas/core/inventory/inventory-store.js';

function counting(assets: Record<string, InventoryAsset>) {
  const reads: string[] = [];
  let failing = false;
  const reader: InventoryReader = {
    async getAsset(id) {
      reads.push(`asset ${id}`);
      if (failing) throw new Error('throttled');
      return assets[id];
    },
    async getSite(id) {
      reads.push(`site ${id}`);
      return id === 'site-1' ? ({ site_id: 'site-1' } as InventorySite) : undefined;
    },
  };
  return { reader, reads, fail: (on: boolean) => (failing = on) };
}

const asset = { asset_id: 'a-1', site_id: 'site-1' } as InventoryAsset;

describe('cachedInventory', () => {
  it('reads a found asset or site once per TTL, then again', async () => {
    let now = 0;
    const { reader, reads } = counting({ 'a-1': asset });
    const inventory = cachedInventory(reader, 60_000, () => now);
    expect(await inventory.getAsset('a-1')).toEqual(asset);
    expect(await inventory.getSite('site-1')).toEqual({ site_id: 'site-1' });
    now = 59_999;
    expect(await inventory.getAsset('a-1')).toEqual(asset);
    expect(await inventory.getSite('site-1')).toEqual({ site_id: 'site-1' });
    expect(reads).toEqual(['asset a-1', 'site site-1']);
    now = 60_000;
    await inventory.getAsset('a-1');
    expect(reads).toEqual(['asset a-1', 'site site-1', 'asset a-1']);
  });

  it('shares one read between concurrent lookups of an id', async () => {
    const { reader, reads } = counting({ 'a-1': asset });
    const inventory = cachedInventory(reader);
    await Promise.all([inventory.getAsset('a-1'), inventory.getAsset('a-1'), inventory.getAsset('a-1')]);
    expect(reads).toEqual(['asset a-1']);
  });

  it('keeps no miss (an asset added to the inventory is accepted at once) and no failure', async () => {
    const assets: Record<string, InventoryAsset> = {};
    const { reader, reads, fail } = counting(assets);
    const inventory = cachedInventory(reader);
    expect(await inventory.getAsset('a-1')).toBeUndefined();
    assets['a-1'] = asset;
    expect(await inventory.getAsset('a-1')).toEqual(asset);
    fail(true);
    await expect(inventory.getAsset('a-2')).rejects.toThrow('throttled');
    fail(false);
    expect(await inventory.getAsset('a-2')).toBeUndefined();
    expect(reads).toEqual(['asset a-1', 'asset a-1', 'asset a-2', 'asset a-2']);
  });
});
