// Reading a whole registry listing, page by page.
import type { Device, DeviceKind, DeviceRegistry } from './ports.js';

/** Every registered device of a kind, following the registry's pages. */
export async function listAll(registry: DeviceRegistry, kind: DeviceKind, online?: boolean): Promise<Device[]> {
  const all: Device[] = [];
  let next: string | undefined;
  do {
    const page = await registry.list(kind, { limit: 1000, ...(online !== undefined && { online }), ...(next && { next }) });
    all.push(...page.items);
    next = page.next;
  } while (next);
  return all;
}
