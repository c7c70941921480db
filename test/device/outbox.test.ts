import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLog } from '../../device/log.js';
import { OfflineBuffer } from '../../device/offline-buffer.js';
import { Outbox, type Publisher } from '../../device/outbox.js';
import { eventually, tempDir } from './helpers.js';

/** A broker stand-in: records publishes; each resolves when acked (or at once when `autoAck`). */
class FakeBroker implements Publisher {
  readonly received: { topic: string; payload: string; qos: 0 | 1 }[] = [];
  readonly pending: { resolve(): void; reject(e: Error): void; payload: string }[] = [];
  autoAck = true;
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void> {
    this.received.push({ topic, payload, qos });
    if (this.autoAck) return Promise.resolve();
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject, payload }));
  }
  ackAll(): void {
    for (const p of this.pending.splice(0)) p.resolve();
  }
  failAll(): void {
    for (const p of this.pending.splice(0)) p.reject(new Error('disconnected'));
  }
  payloads(topic = 'volttron/metering'): string[] {
    return this.received.filter((r) => r.topic === topic).map((r) => r.payload);
  }
}

let dir: { path: string; remove(): Promise<void> };
let broker: FakeBroker;
const log = memoryLog();
const made: Outbox[] = [];
const outbox = (maxBytes = 1 << 20, window = 4) => {
  const o = new Outbox(broker, OfflineBuffer.open({ dir: dir.path, maxBytes }), log, { window, dropWarnEveryMs: 0 });
  made.push(o);
  return o;
};

beforeEach(async () => {
  dir = await tempDir('vpp-outbox-');
  broker = new FakeBroker();
  log.entries.length = 0;
});
afterEach(async () => {
  for (const o of made.splice(0)) o.close();
  await dir.remove();
});

describe('Outbox', () => {
  it('sends durable messages straight through while online', async () => {
    const o = outbox();
    o.setOnline(true);
    for (let i = 0; i < 3; i++) o.sendDurable('volttron/metering', `m${i}`);
    expect(broker.payloads()).toEqual(['m0', 'm1', 'm2']);
    await eventually(() => o.status().sent === 3);
    expect(o.status()).toMatchObject({ bufferDepth: 0, inflight: 0 });
  });

  it('keeps durable messages while offline and replays them in order on reconnect, ahead of new ones', async () => {
    const o = outbox();
    for (let i = 0; i < 10; i++) o.sendDurable('volttron/metering', `m${i}`);
    expect(broker.received).toEqual([]);
    expect(o.status()).toMatchObject({ online: false, bufferDepth: 10 });
    o.setOnline(true);
    o.sendDurable('volttron/metering', 'm10');
    await eventually(() => o.status().bufferDepth === 0);
    expect(broker.payloads()).toEqual([...Array(11).keys()].map((i) => `m${i}`));
  });

  it('keeps at most `window` messages in flight while draining', async () => {
    broker.autoAck = false;
    const o = outbox(1 << 20, 4);
    for (let i = 0; i < 10; i++) o.sendDurable('volttron/metering', `m${i}`);
    o.setOnline(true);
    await eventually(() => broker.received.length === 4);
    expect(o.status().inflight).toBe(4);
    broker.ackAll();
    await eventually(() => broker.received.length === 8);
    broker.ackAll();
    await eventually(() => broker.received.length === 10);
    broker.ackAll();
    await eventually(() => o.status().bufferDepth === 0);
    expect(broker.payloads()).toEqual([...Array(10).keys()].map((i) => `m${i}`));
  });

  it('retries a refused publish in its place; refused three times, it is dropped and logged', async () => {
    broker.autoAck = false;
    const o = outbox();
    o.sendDurable('volttron/metering', 'poison');
    o.sendDurable('volttron/metering', 'next');
    o.setOnline(true);
    await eventually(() => broker.pending.length === 2);
    broker.pending.shift()!.reject(new Error('refused'));
    broker.pending.shift()!.resolve();
    await eventually(() => broker.pending.length === 1);
    broker.pending.shift()!.reject(new Error('refused'));
    await eventually(() => broker.pending.length === 1);
    broker.pending.shift()!.reject(new Error('refused'));
    await eventually(() => o.status().bufferDepth === 0);
    expect(broker.payloads()).toEqual(['poison', 'next', 'poison', 'poison']);
    expect(log.entries.filter((e) => e.message === 'publish failed: message kept for the next attempt')).toHaveLength(
      2,
    );
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'publish refused repeatedly: message dropped' }),
    );
  });

  it('skips live messages while offline and counts them', () => {
    const o = outbox();
    o.sendLive('ven/telemetry/ven-001', 'x');
    expect(broker.received).toEqual([]);
    expect(o.status().skipped).toBe(1);
    o.setOnline(true);
    o.sendLive('ven/telemetry/ven-001', 'y');
    expect(broker.payloads('ven/telemetry/ven-001')).toEqual(['y']);
  });

  it('on close, unacknowledged messages go back to disk ahead of buffered ones', async () => {
    broker.autoAck = false;
    const o = outbox();
    o.setOnline(true);
    o.sendDurable('volttron/metering', 'a');
    o.sendDurable('volttron/metering', 'b');
    o.setOnline(false);
    o.sendDurable('volttron/metering', 'c');
    o.beginClose();
    broker.failAll();
    await Promise.resolve();
    o.close();
    const b = OfflineBuffer.open({ dir: dir.path, maxBytes: 1 << 20 });
    expect(b.take(10).map((r) => r.payload)).toEqual(['a', 'b', 'c']);
    b.close();
  });

  it('logs and counts what the bound drops', () => {
    const o = outbox(200);
    for (let i = 0; i < 10; i++) o.sendDurable('volttron/metering', `message-${i}`);
    expect(o.status().dropped).toBeGreaterThan(0);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'offline buffer full: oldest messages dropped',
        fields: expect.objectContaining({ droppedTotal: o.status().dropped }),
      }),
    );
  });

  it('whenIdle resolves once everything is delivered, and times out offline', async () => {
    const o = outbox();
    o.sendDurable('volttron/metering', 'a');
    expect(await o.whenIdle(50)).toBe(false);
    o.setOnline(true);
    expect(await o.whenIdle(1000)).toBe(true);
  });
});
