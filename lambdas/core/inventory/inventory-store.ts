// The asset inventory port (sites and their DER assets).
import type { Inventory, InventoryAsset, InventorySite } from '../contracts/inventory.js';
import type { Page } from '../common/page.js';

export interface InventoryStore {
  /** Makes the stored inventory exactly `inventory`: upserts every row, deletes rows no longer in it. */
  replace(inventory: Inventory): Promise<void>;
  listAssets(page: { limit: number; next?: string }): Promise<Page<InventoryAsset>>;
  getAsset(assetId: string): Promise<InventoryAsset | undefined>;
  getSite(siteId: string): Promise<InventorySite | undefined>;
}

/** The inventory as ingest reads it. */
export type InventoryReader = Pick<InventoryStore, 'getAsset' | 'getSite'>;
