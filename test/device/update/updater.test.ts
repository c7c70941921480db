// The updater's report of a finished update, against a runtime that only records what the agent sends and hands it
// the answers IoT would: the next execution is asked for only once IoT has answered the SUCCEEDED report.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { topics } from '../../../lambdas/core/contracts/topics.js';
import { memoryLog } from '../../../device/log.js';
import type { DeviceRuntime } from '../../../device/runtime.js';
import { swapIn } from '../../../device/update/install-dir.js';
import { AgentUpdater } from '../../../device/update/updater.js';
import { eventually } from '../../e2e/helpers.js';

const THING = 'ven-upd';
let dir: string | undefined;
afterEach(async () => dir && rm(dir, { recursive: true, force: true }));

/** What the updater touches of a DeviceRuntime: subscriptions (MQTT wildcards), online hooks, publishes. */
function recordingRuntime() {
  const handlers: [RegExp, (payload: string) => void][] = [];
  const online: (() => void)[] = [];
  const sent: { topic: string; payload: string }[] = [];
  const record = async (topic: string, payload: string) => void sent.push({ topic, payload });
  const runtime = {
    on: (pattern: string, handler: (payload: string) => void) =>
      handlers.push([new RegExp(`^${pattern.replace(/[$.]/g, '\\$&').replace(/\+/g, '[^/]+')}$`), handler]),
    onOnline: (hook: () => void) => online.push(hook),
    connection: { publish: record },
    outbox: { sendLive: record },
    log: memoryLog(),
  };
  const deliver = (topic: string, body: object) => {
    for (const [re, handler] of handlers) if (re.test(topic)) handler(JSON.stringify(body));
  };
  return { runtime: runtime as unknown as DeviceRuntime, online, sent, deliver };
}

it('asks for its next job only after IoT answered the SUCCEEDED report of the version it now runs', async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-updater-'));
  await writeFile(join(dir, 'agent.mjs'), 'old');
  swapIn(dir, Buffer.from('new'), { jobId: 'job-1', version: '1.1.0', from: '1.0.0' });
  const rt = recordingRuntime();
  new AgentUpdater({
    runtime: rt.runtime,
    thingName: THING,
    installDir: dir,
    releaseKey: generateKeyPairSync('ed25519').publicKey,
    version: '1.1.0',
    healthTimeoutMs: 10_000,
    exit: () => {},
  });
  for (const hook of rt.online) hook();

  // healthy: its shadow report accepted
  const health = await eventually(() => rt.sent.find((m) => m.topic === topics.shadow(THING, 'update')));
  rt.deliver(topics.shadow(THING, 'update/accepted'), { clientToken: JSON.parse(health.payload).clientToken });
  const report = await eventually(() => rt.sent.find((m) => m.topic === topics.jobs(THING, 'job-1/update')));
  expect(JSON.parse(report.payload)).toMatchObject({
    status: 'SUCCEEDED',
    statusDetails: { version: '1.1.0', from: '1.0.0' },
  });
  const askedNext = () => rt.sent.some((m) => m.topic === topics.jobs(THING, '$next/get'));
  // not asked yet: IoT may not have applied the report, and would answer with this very execution, IN_PROGRESS
  await new Promise((r) => setTimeout(r, 200));
  expect(askedNext()).toBe(false);
  rt.deliver(topics.jobs(THING, 'job-1/update/accepted'), { clientToken: JSON.parse(report.payload).clientToken });
  await eventually(askedNext);
});
