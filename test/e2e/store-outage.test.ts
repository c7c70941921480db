// The store down for a while: the handlers retry with back-off, then dead-letter the records (with their place in
// the stream); /health names what is down; once the store is back, `npm run redrive` puts the dead letters back into
// their streams: every message stored once, none lost, none doubled (a second redrive of the same letters changes
// nothing). Real parts: the device SDK over mutual TLS, the broker, kinesalite, dynalite stopped and started again.
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { errorSink, eventually, startTestStack, type TestStack } from './helpers.js';
import { connectDevice, type TestDevice } from './sdk-client.js';

let stack: TestStack;
let device: TestDevice;
beforeAll(async () => {
  stack = await startTestStack({ streamRetryAttempts: 2 });
  // as `npm start` does: the redrive command finds the running stack by it
  await writeFile(join(stack.dir, 'local.json'), JSON.stringify(stack.config));
  device = await connectDevice(await stack.provision('ven-001'), 'ven-001');
});
afterAll(async () => {
  await device?.close();
  await stack?.dispose();
});

const start = Math.floor(Date.now() / 1000) - 600;
const metering = (i: number) =>
  JSON.stringify({ ...fixture('volttron-metering'), timestamp: start + i * 5, usedPowerKw: i });
const stored = async () =>
  (
    (await stack.api(`/api/vens/ven-001/telemetry?start=${start - 1}&end=${start + 600}&limit=1000`)).body.items as {
      usedPowerKw: number;
    }[]
  )
    .map((s) => s.usedPowerKw)
    .sort((a, b) => a - b);
const redrive = async () => {
  const { stdout } = await promisify(execFile)('npx', ['tsx', 'bin/redrive.ts'], {
    env: { ...process.env, VPP_DIR: stack.dir },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { deadLetters: number; redriven: number; missing: unknown[] };
};
/** Publishes message `i` after the redriven records and waits until it is stored: the stream, in order, has then handled them. */
const behindRedriven = async (i: number) => {
  await device.publish(topics.metering, metering(i));
  await eventually(async () => (await stored()).includes(i));
};
const health = async () => {
  const res = await fetch(`${stack.config.apiUrl}/health`);
  return { status: res.status, body: (await res.json()) as { status: string; down?: string[] } };
};

describe('the store down, then redrive', () => {
  it(
    'dead-letters what failed past the retries and replays it once the store is back: nothing lost, nothing doubled',
    { timeout: 90_000 },
    async () => {
      for (const i of [0, 1, 2]) await device.publish(topics.metering, metering(i));
      await eventually(async () => (await stored()).join() === '0,1,2');

      await stack.parts.dynamodb.stop();
      expect(await health()).toEqual({
        status: 503,
        body: expect.objectContaining({ status: 'down', down: ['dynamodb'] }),
      });
      // acknowledged by the broker: the messages are in the stream, the store is not there to take them
      for (const i of [3, 4, 5, 6, 7]) await device.publish(topics.metering, metering(i));
      const streamDeadLetters = async () =>
        (await errorSink(stack.config.errorsFile)).filter(
          (r) => r.reason === 'handler-failed' && r.topic === undefined,
        );
      await eventually(
        async () => (await streamDeadLetters()).filter((r) => r.message.startsWith('stream vpp-metering')).length >= 5,
        60_000,
      );
      // every stream retried and gave up: what is dead-lettered is all there is (a batch stored before the stop may be
      // among it, when the stop caught its registry write: the redrive completes it)
      await stack.settle();
      const deadLetters = await streamDeadLetters();
      expect(deadLetters[0]).toMatchObject({
        message: expect.stringMatching(/^stream vpp-metering: record \d+ failed 3 times/),
        clientId: 'ven-001',
        kinesis: { stream: 'vpp-metering', shardId: expect.any(String), startSequenceNumber: expect.any(String) },
      });

      await stack.parts.dynamodb.start();
      // the first request may meet a socket the outage closed (the SDK's retry quota is spent by then): up again soon after
      await eventually(async () => (await health()).status === 200);
      await stack.settle();
      expect(await stored()).toEqual([0, 1, 2]); // dead-lettered, not stored: until the redrive

      expect(await redrive()).toMatchObject({ redriven: deadLetters.length, missing: [] });
      await behindRedriven(8);
      expect(await stored()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await redrive()).toEqual({ deadLetters: 0, redriven: 0, missing: [] });

      // every dead letter again (as a redrive interrupted before it recorded what it did): the stores absorb them
      await rm(join(stack.dir, 'redriven.txt'));
      expect((await redrive()).redriven).toBe(deadLetters.length);
      await behindRedriven(9);
      expect(await stored()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    },
  );

  it('answers /health with 503 naming each part that is down', { timeout: 30_000 }, async () => {
    await stack.parts.dynamodb.start(); // whatever the test before left
    await stack.parts.kinesis.stop();
    expect(await health()).toMatchObject({ status: 503, body: { status: 'down', down: ['kinesis'] } });
    await stack.parts.kinesis.start();
    await stack.parts.broker.stop();
    expect(await health()).toMatchObject({ status: 503, body: { status: 'down', down: ['broker'] } });
    await stack.parts.broker.start();
    await eventually(async () => (await health()).status === 200);
    expect(await health()).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});
