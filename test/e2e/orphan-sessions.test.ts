// A session the broker no longer holds (the stack was killed with it open) is closed when the stack starts again, so
// GET /api/vens/{id} and /api/agents never keep a pre-crash session open for good.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../bin/local/stack.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { apiClient, eventually, presenceConnected } from './helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'vpp-orphans-'));
const stacks: LocalStack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const start = async () => {
  const stack = await startLocalStack({ dir, httpPort: 0, mqttPort: 0, fleet: false });
  stacks.push(stack);
  return { stack, api: apiClient(stack.config.apiUrl, stack.config.token) };
};

describe('sessions left open by a stack that did not stop', () => {
  it('are closed (SERVER_ERROR) when the stack starts again; the device is offline until it reconnects', async () => {
    const first = await start();
    const reading = { ...fixture('volttron-metering'), venId: 'hx-orphan', timestamp: Math.floor(Date.now() / 1000) };
    await first.stack.deliverToRules(topics.metering, Buffer.from(JSON.stringify(reading)), 'hx-orphan');
    // the broker of a run killed with the device connected: its connect was recorded, its disconnect never was
    await presenceConnected(first.stack, 'hx-orphan');
    await first.stack.settle();
    const open = await eventually(async () => (await first.api('/api/vens/hx-orphan')).body?.sessions?.[0]);
    expect(open).not.toHaveProperty('disconnected_at');
    await first.stack.close();
    stacks.splice(stacks.indexOf(first.stack), 1);

    const second = await start();
    const closed = await eventually(async () => {
      await second.stack.settle();
      const session = (await second.api('/api/vens/hx-orphan')).body?.sessions?.[0];
      return session?.disconnected_at !== undefined && session;
    }, 5_000);
    expect(closed).toMatchObject({ session_id: open.session_id, disconnect_reason: 'SERVER_ERROR' });
    expect((await second.api('/api/vens/hx-orphan')).body.online).toBe(false);
  }, 60_000);
});
