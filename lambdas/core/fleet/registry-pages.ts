// Reading a whole listing (the registry's devices of a kind, the inventory's assets), page by page.
import type { InventoryAsset } from '../contracts/inventory.js';
import type { Device, DeviceKind, DeviceRegistry } from './registry.js';
import type { InventoryStore } from '../inventory/inventory-store.js';

/** Every registered device of a kind, following the registry's pages. */
export async function listAll(
  registry: Pick<DeviceRegistry, 'list'>,
  kind: DeviceKind,
  online?: boolean,
): Promise<Device[]> {
  const all: Device[] = [];
  let next: string | undefined;
  do {
    const page = await registry.list(kind, {
      limit: 1000,
      ...(online !== undefined && { online }),
      ...(next && { next }),
    });
    all.push(...page.items);
    next = page.next;
  } while (next);
  return all;
}

/** Every asset of the inventory, following its pages. */
export async function allAssets(inventory: Pick<InventoryStore, 'listAssets'>): Promise<InventoryAsset[]> {
  const all: InventoryAsset[] = [];
  let next: string | undefined;
  do {
    const page = await inventory.listAssets({ limit: 1000, ...(next && { next }) });
    all.push(...page.items);
    next = page.next;
  } while (next);
  return all;
}
