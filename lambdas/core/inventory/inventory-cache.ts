// The der rule checks every asset of every reading against the inventory: without a cache, a site of n assets
// reporting every 5 s costs n + 1 reads a message. Found sites and assets are kept for `ttlMs` (an inventory change
// reaches the rule within that); a miss is not kept, so an asset added to the inventory is accepted at once.
import type { InventoryReader } from './inventory-store.js';

export const INVENTORY_CACHE_TTL_MS = 60_000;

export function cachedInventory(
  reader: InventoryReader,
  ttlMs = INVENTORY_CACHE_TTL_MS,
  now: () => number = Date.now,
): InventoryReader {
  return {
    getAsset: cached((id) => reader.getAsset(id), ttlMs, now),
    getSite: cached((id) => reader.getSite(id), ttlMs, now),
  };
}

function cached<T>(load: (id: string) => Promise<T | undefined>, ttlMs: number, now: () => number) {
  const entries = new Map<string, { until: number; value: Promise<T | undefined> }>();
  return (id: string): Promise<T | undefined> => {
    const hit = entries.get(id);
    if (hit && hit.until > now()) return hit.value;
    // concurrent lookups of one id share one read; a miss or a failed read is forgotten once it settles
    const value = load(id);
    entries.set(id, { until: now() + ttlMs, value });
    value.then(
      (found) => found === undefined && entries.get(id)?.value === value && entries.delete(id),
      () => entries.get(id)?.value === value && entries.delete(id),
    );
    return value;
  };
}
