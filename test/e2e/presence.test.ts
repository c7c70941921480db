// Online means connected: a device that disconnects is offline, `?online=` filters on it, and a fleet event
// leaves offline VENs out. Over mutual TLS with the real device SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/topics.js';
import { fixture } from '../fixture.js';
import { eventually, startTestStack, type TestStack } from './helpers.js';
import { connectDevice, type TestDevice } from './sdk-client.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.dispose());

const nowSec = () => Math.floor(Date.now() / 1000);
const metering = (venId: string) => JSON.stringify({ ...fixture('seed-001-metering'), venId, timestamp: nowSec() });
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
      expect((await stack.api('/api/vens/ven-off')).body).toMatchObject({ online: false, latest: { usedPowerKw: 8.2 } });
      expect(await online(true)).toEqual(['ven-on']);

      const event = await stack.api('/api/events', { method: 'POST', body: JSON.stringify({ shed_kw: 1, duration_sec: 60, ven_ids: ['ven-on', 'ven-off'] }) });
      expect(event.status).toBe(202);
      expect(event.body.allocations.map((x: { venId: string }) => x.venId)).toEqual(['ven-on']);
      expect(event.body.excluded).toEqual([{ venId: 'ven-off', reason: expect.stringMatching(/offline/) }]);
    } finally {
      await a.close();
    }
  });
});
