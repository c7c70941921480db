import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeMismatches } from '../../bin/local/response-check.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../bin/local/stack.js';
import { startFleet, type Fleet, type FleetDeviceSpec, type FleetOptions } from '../../device/fleet.js';
import { memoryLog } from '../../device/log.js';
import { checkStackCalls } from '../iam/stack-calls.js';

export type TestStack = LocalStack & { dir: string; api: ApiClient; dispose(): Promise<void> };

/** A local stack in a fresh temporary folder on free ports, without the simulated fleet unless asked. */
export async function startTestStack(opts: Partial<LocalStackOptions> = {}): Promise<TestStack> {
  const dir = await mkdtemp(join(tmpdir(), 'vpp-test-'));
  const stack = await startLocalStack({
    dir,
    httpPort: 0,
    mqttPort: 0,
    fleet: false,
    checkResponses: process.env.VPP_NO_RESPONSE_CHECK !== '1',
    ...opts,
  });
  return Object.assign(stack, {
    dir,
    api: apiClient(stack.config.apiUrl, stack.config.token),
    /**
     * Stops the stack, then fails if the deployed functions' roles would deny an AWS call it recorded (test/iam/), or
     * if an API answer did not match the published OpenAPI document (bin/local/response-check.ts).
     */
    async dispose() {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
      await checkStackCalls(stack.awsCalls.all());
      const mismatches = stack.responseMismatches();
      if (mismatches.length)
        throw new Error(
          `${mismatches.length} API answer(s) do not match the OpenAPI document:\n${describeMismatches(mismatches)}`,
        );
    },
  });
}

/** Real agents (the device SDK over mutual TLS) for these devices on a local stack, each provisioned from its CA. */
export async function startStackFleet(
  stack: LocalStack & { dir: string },
  things: readonly Omit<FleetDeviceSpec, 'certFile' | 'keyFile'>[],
  opts: Partial<Omit<FleetOptions, 'devices'>> = {},
): Promise<Fleet> {
  const devices = await Promise.all(things.map(async (t) => ({ ...t, ...(await stack.provision(t.thingName)) })));
  const { host, port, caFile } = stack.config.mqtt;
  return startFleet({ host, port, caFile, dataDir: join(stack.dir, 'fleet'), devices, log: memoryLog(), ...opts });
}

/**
 * Tells the rules that these devices connected, as the broker does for a device over mutual TLS (the IoT lifecycle
 * event on `$aws/events/presence/connected/{id}`): for tests that feed messages with `deliverToRules`, since a device
 * is online only while connected.
 */
export async function presenceConnected(stack: LocalStack, ...clientIds: string[]): Promise<void> {
  for (const clientId of clientIds) {
    const event = {
      clientId,
      timestamp: Date.now(),
      eventType: 'connected',
      sessionIdentifier: randomUUID(),
      principalIdentifier: 'test',
      versionNumber: 0,
    };
    await stack.deliverToRules(
      `$aws/events/presence/connected/${clientId}`,
      Buffer.from(JSON.stringify(event)),
      undefined,
    );
  }
}

export type ApiClient = (
  path: string,
  init?: { method?: string; body?: string; token?: string | null },
) => Promise<{ status: number; body: any }>;

export function apiClient(baseUrl: string, token: string): ApiClient {
  return async (path, init = {}) => {
    const headers: Record<string, string> =
      init.token === null ? {} : { authorization: `Bearer ${init.token ?? token}` };
    if (init.body) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, { method: init.method ?? 'GET', body: init.body, headers });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** Polls until `check` returns a value (not undefined/false) or the time runs out. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}

export async function errorSink(
  file: string,
): Promise<{ reason: string; message: string; topic?: string; clientId?: string }[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
