// The local stack as the API tests drive it: like test/e2e/helpers' startTestStack, plus the issue #3 options
// (inventory file, a short command time-out and a fast sweep).
import { fileURLToPath } from 'node:url';
import type { LocalStackOptions } from '../../bin/local/stack.js';
import { startTestStack, type TestStack } from '../e2e/helpers.js';

export const INVENTORY_FIXTURE = fileURLToPath(new URL('./fixtures/inventory.yaml', import.meta.url));

export type ApiTestStack = TestStack;

export function startApiStack(
  opts: Pick<LocalStackOptions, 'inventoryFile' | 'commandTimeoutSec' | 'commandSweepMs' | 'settlementGraceMs' | 'rollupIntervalMs'> = {},
): Promise<ApiTestStack> {
  return startTestStack({ inventoryFile: INVENTORY_FIXTURE, commandTimeoutSec: 30, commandSweepMs: 200, ...opts });
}

export const post = (body: unknown) => ({ method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Keys of a JSON document in order, nested objects included: compares wire layouts, not just values. */
export function keyLayout(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyLayout);
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, keyLayout(v)]);
  return typeof value;
}

export const nowSec = () => Math.floor(Date.now() / 1000);
