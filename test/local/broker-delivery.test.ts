// The broker's emitter guards on a real aedes broker: a long queue behind held deliveries drains without overflowing
// the stack, the delivery probe says when deliveries stall and when they flow again, and a throwing forward check
// drops that subscriber instead of the process.
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryProbe, guardEmitter, guardForward } from '../../bin/local/iot/broker-delivery.js';
import { eventually } from '../e2e/helpers.js';

type Emitter = { on(topic: string, notify: (packet: unknown, done: () => void) => void): void; length: number };
const emitterOf = (aedes: Aedes) => (aedes as unknown as { mq: Emitter }).mq;
const publish = (aedes: Aedes, topic: string, done: () => void = () => undefined) =>
  aedes.publish({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, done);

let aedes: Aedes | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (aedes ? aedes.close(() => resolve()) : resolve()));
  aedes = undefined;
});

describe('the broker emitter, guarded', () => {
  it('drains 10,000 queued messages behind 100 held deliveries without overflowing the stack; the probe sees the stall', async () => {
    aedes = await Aedes.createBroker();
    const lines: string[] = [];
    guardEmitter(aedes, (line) => lines.push(line));
    const probe = deliveryProbe(aedes, { intervalMs: 20, stallMs: 200 });
    try {
      const held: (() => void)[] = [];
      emitterOf(aedes).on('held/+', (_packet, done) => held.push(done));
      for (let i = 0; i < 100; i++) publish(aedes, `held/${i}`);
      await eventually(() => held.length === 100);
      let completed = 0;
      for (let i = 0; i < 10_000; i++) publish(aedes, `nobody/${i}`, () => completed++);
      expect(emitterOf(aedes).length).toBeGreaterThan(9_000);

      await eventually(() => !probe.delivering, 5000);
      expect(probe.stalledMs).toBeGreaterThanOrEqual(200);

      for (const done of held) done();
      await eventually(() => completed === 10_000, 10_000);
      await eventually(() => probe.delivering, 5000);
      expect(lines).toEqual([]);
    } finally {
      probe.stop();
    }
  });

  it('logs an exception thrown by a delivery and goes on delivering', async () => {
    aedes = await Aedes.createBroker();
    const lines: string[] = [];
    guardEmitter(aedes, (line) => lines.push(line));
    emitterOf(aedes).on('boom', () => {
      throw new Error('delivery failed');
    });
    const got: string[] = [];
    emitterOf(aedes).on('fine', (_packet, done) => {
      got.push('fine');
      done();
    });
    expect(() => publish(aedes!, 'boom')).not.toThrow();
    publish(aedes, 'fine');
    await eventually(() => got.length === 1);
    expect(lines.join('\n')).toMatch(/delivery of boom threw: Error: delivery failed/);
  });

  it('drops the subscriber whose forward check throws, and logs it', async () => {
    aedes = await Aedes.createBroker({
      authorizeForward: () => {
        throw new Error('bad forward');
      },
    });
    const lines: string[] = [];
    guardForward(aedes, (line) => lines.push(line));
    let closed = 0;
    const client = { id: 'operator-x', close: () => closed++ };
    expect(aedes.authorizeForward(client as never, { topic: 'ven/telemetry/a' } as never)).toBeNull();
    expect(closed).toBe(1);
    expect(lines.join('\n')).toMatch(/forwarding ven\/telemetry\/a to operator-x threw, client dropped: bad forward/);
  });
});
