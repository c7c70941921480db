// The local stack as the API tests drive it: like test/e2e/helpers' startTestStack, plus the operator API's options
// (inventory file, a short command time-out and a fast sweep).
import { mqtt } from 'aws-iot-device-sdk-v2';
import { fileURLToPath } from 'node:url';
import type { LocalStackOptions } from '../../bin/local/stack.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually, startTestStack, type TestStack } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { fixture } from '../fixture.js';

export const INVENTORY_FIXTURE = fileURLToPath(new URL('./fixtures/inventory.yaml', import.meta.url));

export type ApiTestStack = TestStack;

export function startApiStack(
  opts: Pick<
    LocalStackOptions,
    | 'inventoryFile'
    | 'commandTimeoutSec'
    | 'commandSweepMs'
    | 'settlementGraceMs'
    | 'rollupIntervalMs'
    | 'portfolioTimeZone'
  > = {},
): Promise<ApiTestStack> {
  return startTestStack({ inventoryFile: INVENTORY_FIXTURE, commandTimeoutSec: 30, commandSweepMs: 200, ...opts });
}

export const post = (body: unknown) => ({
  method: 'POST',
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** Keys of a JSON document in order, nested objects included: compares wire layouts, not just values. */
export function keyLayout(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyLayout);
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, keyLayout(v)]);
  return typeof value;
}

export const nowSec = () => Math.floor(Date.now() / 1000);

/**
 * An API stack with a real VEN `venId` and the Winter River node `pdu_a` (the device SDK over mutual TLS), each
 * subscribed to its command topic and known to the registry: for tests that check what is (not) published.
 */
export async function startWithListeningDevices(
  venId: string,
): Promise<{ stack: ApiTestStack; ven: TestDevice; node: TestDevice; dispose(): Promise<void> }> {
  const nodeId = 'pdu_a';
  const stack = await startApiStack();
  const [ven, node] = await Promise.all([
    connectDevice(await stack.provision(venId), venId),
    connectDevice(await stack.provision(nodeId), nodeId),
  ]);
  await ven.subscribe(topics.command(venId));
  await node.subscribe(topics.winterRiverCommand(nodeId));
  await ven.publish(topics.metering, JSON.stringify({ ...fixture('volttron-metering'), venId, timestamp: nowSec() }));
  await node.publish(
    topics.winterRiverStatus(nodeId),
    JSON.stringify({ ...fixture('winter-river-status'), node_id: nodeId }),
    mqtt.QoS.AtMostOnce,
  );
  await eventually(async () => (await stack.api(`/api/vens/${venId}`)).status === 200);
  await eventually(async () =>
    (await stack.api('/api/winter-river/nodes')).body.items.some((n: { nodeId: string }) => n.nodeId === nodeId),
  );
  return {
    stack,
    ven,
    node,
    async dispose() {
      await ven.close();
      await node.close();
      await stack.dispose();
    },
  };
}

/**
 * Runs `check` (its `expect`s) until it passes, or fails with its last assertion after `timeoutMs`: for API reads of
 * what was just stored, which, as in AWS, show it only after DynamoDB's lag (eventually consistent reads and indexes).
 */
export async function shows(check: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  await eventually(async () => {
    await check();
    return true;
  }, timeoutMs);
}
