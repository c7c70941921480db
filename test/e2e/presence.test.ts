// Online means connected: a device that disconnects is offline, `?online=` filters on it, and a fleet event
// leaves offline VENs out. Over mutual TLS with the real device SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { eventually, startTestStack, type TestStack } from './helpers.js';
import { connectDevice, type TestDevice } from './sdk-client.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.dispose());

const nowSec = () => Math.floor(Date.now() / 1000);
const metering = (venId: string) => JSON.stringify({ ...fixture('volttron-metering'), venId, timestamp: nowSec() });
const online = async (filter: boolean) =>
  ((await stack.api(`/api/vens?online=${filter}`)).body.items as { venId: string }[]).map((v) => v.venId).sort();

async function connect(venId: string): Promise<TestDevice> {
  const device = await connectDevice(await stack.provision(venId), venId);
  await device.publish(topics.metering, metering(venId));
  return device;
}

describe('presence', () => {
  it('marks a device that disconnects offline; ?online= filters on it; a fleet event leaves it out', async () => {
    const [a, b] = await Promise.all([connect('ven-on'), connect('ven-off')]);
    try {
      await eventually(async () => (await online(true)).join() === 'ven-off,ven-on');
      await b.close();
      await eventually(async () => (await online(true)).join() === 'ven-on');
      expect(await online(false)).toEqual(['ven-off']);
      expect((await stack.api('/api/vens/ven-off')).body).toMatchObject({ online: false });

      // a metering message of ven-off still in the stream when its disconnect was processed does not bring it back
      await stack.deliverToRules(topics.metering, Buffer.from(metering('ven-off')), 'ven-off');
      await stack.settle();
      expect((await stack.api('/api/vens/ven-off')).body).toMatchObject({
        online: false,
        latest: { usedPowerKw: 8.2 },
      });
      expect(await online(true)).toEqual(['ven-on']);

      const event = await stack.api('/api/events', {
        method: 'POST',
        body: JSON.stringify({ shed_kw: 2, duration_sec: 60, ven_ids: ['ven-on', 'ven-off'] }),
      });
      expect(event.status).toBe(202);
      expect(event.body.allocations.map((x: { venId: string }) => x.venId)).toEqual(['ven-on']);
      expect(event.body.excluded).toEqual([{ venId: 'ven-off', reason: expect.stringMatching(/offline/) }]);
    } finally {
      await a.close();
    }
  });
});

describe('agent sessions', () => {
  it("/api/agents rows carry the gateway's recent sessions: connect and disconnect times, peer, duration, newest first", async () => {
    const gateway = 'gw-site-gt';
    const files = await stack.provision(gateway);
    const first = await connectDevice(files, gateway);
    await new Promise((r) => setTimeout(r, 1100));
    await first.close();
    const second = await connectDevice(files, gateway);
    try {
      const row = await eventually(async () => {
        const rows = (await stack.api('/api/agents', { token: stack.config.tokens.viewer })).body.items as {
          peer: string;
          sessions: any[];
          connected: boolean;
        }[];
        const mine = rows.find((r) => r.peer === gateway);
        return mine?.sessions.length === 2 && mine;
      });
      const [now, before] = row.sessions;
      expect(now).toEqual({ session_id: expect.any(String), peer: '127.0.0.1', connected_at: expect.any(String) });
      expect(before).toEqual({
        session_id: expect.any(String),
        peer: '127.0.0.1',
        connected_at: expect.any(String),
        disconnected_at: expect.any(String),
        duration_s: expect.any(Number),
        disconnect_reason: expect.any(String),
      });
      expect(now.session_id).not.toBe(before.session_id);
      expect(Date.parse(now.connected_at)).toBeGreaterThanOrEqual(Date.parse(before.disconnected_at));
      expect(before.duration_s).toBeGreaterThanOrEqual(1);
      expect(before.duration_s).toBe(
        Math.round((Date.parse(before.disconnected_at) - Date.parse(before.connected_at)) / 1000),
      );
    } finally {
      await second.close();
    }
  });
});
