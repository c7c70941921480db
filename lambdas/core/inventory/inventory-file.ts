// Loads an inventory file (DER gateway YAML, the one the gateway agent reads) into the inventory store, replacing it.
import { readFile } from 'node:fs/promises';
import { parseInventory } from '../contracts/inventory.js';
import type { InventoryStore } from './inventory-store.js';

export async function loadInventoryFile(file: string, store: InventoryStore) {
  const inventory = parseInventory(await readFile(file, 'utf8'));
  if (!inventory.ok) throw new Error(`${file}: ${inventory.message}`);
  await store.replace(inventory);
  return { sites: inventory.sites.length, assets: inventory.assets.length };
}
