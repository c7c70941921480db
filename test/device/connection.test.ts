// The device connection over real mutual TLS against the project's broker (policy enforced), with the real SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceConnection, type ConnectionHandlers } from '../../device/connection.js';
import { memoryLog } from '../../device/log.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually, startTestBroker, tempDir, type TestBroker } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let broker: TestBroker;
let ven: { certFile: string; keyFile: string };

beforeAll(async () => {
  dir = await tempDir('vpp-conn-');
  broker = await startTestBroker(dir.path);
  ven = await broker.issue('ven-101');
});
afterAll(async () => {
  await broker.close();
  await dir.remove();
});

function connection(thingName: string, files = ven) {
  const events: string[] = [];
  const messages: { topic: string; payload: string }[] = [];
  const handlers: ConnectionHandlers = {
    online: (sessionPresent) => events.push(`online:${sessionPresent}`),
    offline: () => events.push('offline'),
    message: (topic, payload) => messages.push({ topic, payload }),
  };
  const conn = new DeviceConnection(
    {
      thingName,
      host: broker.host,
      port: broker.port,
      caFile: broker.caFile,
      ...files,
      reconnectMinSec: 1,
      reconnectMaxSec: 1,
      connectTimeoutMs: 3000,
      log: memoryLog(),
    },
    handlers,
  );
  return { conn, events, messages };
}

describe('DeviceConnection', () => {
  it('connects with its certificate, publishes within its policy and receives its commands', async () => {
    const { conn, events, messages } = connection('ven-101');
    conn.subscribe(topics.command('ven-101'));
    try {
      expect(await conn.open()).toBe(true);
      expect(conn.status()).toMatchObject({ state: 'online', connects: 1, endpoint: `127.0.0.1:${broker.port}` });
      expect(events).toEqual(['online:false']);
      await conn.publish(topics.ack('ven-101'), '{"hello":1}', 1);
      expect(broker.published).toContainEqual({
        topic: topics.ack('ven-101'),
        payload: '{"hello":1}',
        clientId: 'ven-101',
      });
      await eventually(async () => {
        await broker.publish(topics.command('ven-101'), '{"op":"ping","correlationId":"c"}');
        return messages.length > 0;
      });
      expect(messages[0]).toEqual({ topic: topics.command('ven-101'), payload: '{"op":"ping","correlationId":"c"}' });
    } finally {
      await conn.close();
    }
    expect(conn.status().state).toBe('closed');
  });

  it('cannot connect under a client id other than its certificate CN', async () => {
    const { conn } = connection('ven-102');
    try {
      expect(await conn.open()).toBe(false);
      expect(conn.status()).toMatchObject({ state: 'connecting', connects: 0 });
      expect(conn.status().lastError).toBeTruthy();
    } finally {
      await conn.close();
    }
    expect(broker.published.some((p) => p.clientId === 'ven-102')).toBe(false);
  });

  it('survives a broker restart: offline, online again, subscriptions renewed on the fresh broker', async () => {
    const { conn, events, messages } = connection('ven-101');
    conn.subscribe(topics.command('ven-101'));
    try {
      expect(await conn.open()).toBe(true);
      await broker.stop();
      await eventually(() => events.includes('offline'));
      expect(conn.isOnline).toBe(false);
      await broker.start();
      await eventually(() => conn.isOnline, 15_000);
      expect(conn.status()).toMatchObject({ connects: 2, interruptions: 1 });
      await eventually(async () => {
        await broker.publish(topics.command('ven-101'), '{"after":"restart"}');
        return messages.some((m) => m.payload === '{"after":"restart"}');
      });
    } finally {
      await conn.close();
    }
  });

  it('keeps trying when the broker is down at start, and connects once it is up', async () => {
    await broker.stop();
    const { conn, events } = connection('ven-101');
    try {
      expect(await conn.open()).toBe(false);
      await broker.start();
      await eventually(() => conn.isOnline, 15_000);
      expect(events).toEqual(['online:false']);
    } finally {
      await conn.close();
      if (!broker.running) await broker.start();
    }
  });

  it('close unsubscribes before it disconnects: the persistent session keeps nothing for it', async () => {
    const { conn, messages } = connection('ven-101');
    conn.subscribe(topics.command('ven-101'));
    expect(await conn.open()).toBe(true);
    await eventually(async () => {
      await broker.publish(topics.command('ven-101'), '{"before":"close"}');
      return messages.length > 0;
    });
    await conn.close();
    await conn.close();
    await expect(conn.publish(topics.ack('ven-101'), '{}', 1)).rejects.toThrow(/not open/);
    await broker.publish(topics.command('ven-101'), '{"late":true}');
    // same client id, persistent session, no subscription of its own: only the old session could deliver
    const again = connection('ven-101');
    try {
      expect(await again.conn.open()).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(again.messages).toEqual([]);
    } finally {
      await again.conn.close();
    }
  });
});
