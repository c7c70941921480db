// The local stack as the API tests drive it: like test/e2e/helpers' startTestStack, plus the issue #3 options
// (inventory file, a short command time-out and a fast sweep).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../bin/local/stack.js';
import { apiClient, type ApiClient } from '../e2e/helpers.js';

export const INVENTORY_FIXTURE = fileURLToPath(new URL('./fixtures/inventory.yaml', import.meta.url));

export type ApiTestStack = LocalStack & { dir: string; api: ApiClient; dispose(): Promise<void> };

export async function startApiStack(
  opts: Pick<LocalStackOptions, 'inventoryFile' | 'commandTimeoutSec' | 'commandSweepMs'> = {},
): Promise<ApiTestStack> {
  const dir = await mkdtemp(join(tmpdir(), 'vpp-api-test-'));
  const stack = await startLocalStack({
    dir,
    httpPort: 0,
    mqttPort: 0,
    fleet: false,
    inventoryFile: INVENTORY_FIXTURE,
    commandTimeoutSec: 30,
    commandSweepMs: 200,
    ...opts,
  });
  return Object.assign(stack, {
    dir,
    api: apiClient(stack.config.apiUrl, stack.config.token),
    async dispose() {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}

export const post = (body: unknown) => ({ method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Keys of a JSON document in order, nested objects included: compares wire layouts, not just values. */
export function keyLayout(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyLayout);
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, keyLayout(v)]);
  return typeof value;
}

export const nowSec = () => Math.floor(Date.now() / 1000);
