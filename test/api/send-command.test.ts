// sendCommand over in-memory ports: recorded before it leaves, and removed again when the publish fails.
import { describe, expect, it } from 'vitest';
import { eventCommand, sendCommand } from '../../lambdas/core/commands/commands.js';
import type { CommandPublisher, CommandRecord, CommandStore } from '../../lambdas/core/commands/command-store.js';

function ports(publish: CommandPublisher['publish']) {
  const calls: string[] = [];
  const records = new Map<string, CommandRecord>();
  const commands = {
    record: async (r: CommandRecord) => void (calls.push(`record ${r.correlationId}`), records.set(r.correlationId, r)),
    discard: async (id: string) => void (calls.push(`discard ${id}`), records.delete(id)),
  } as unknown as CommandStore;
  const publisher: CommandPublisher = {
    publish: async (topic, payload, qos) => (calls.push(`publish ${topic} qos${qos}`), publish(topic, payload, qos)),
  };
  return { calls, records, ports: { commands, publisher } };
}

const ctx = { now: 1_700_000_000_000, timeoutSec: 30, newId: () => 'id' };

describe('sendCommand', () => {
  it('records the command as sent, with its expiry, before publishing it QoS 1 on the target topic', async () => {
    const { calls, records, ports: p } = ports(async () => undefined);
    const record = await sendCommand(p, 'ven-1', eventCommand('evt-1', 2, 60, 'c-1'), ctx);
    expect(calls).toEqual(['record c-1', 'publish ven/cmd/ven-1 qos1']);
    expect(record).toMatchObject({
      correlationId: 'c-1',
      target: 'ven-1',
      topic: 'ven/cmd/ven-1',
      op: 'event',
      status: 'sent',
      sentAt: ctx.now,
      expiresAt: ctx.now + 30_000,
    });
    expect(records.get('c-1')).toEqual(record);
  });

  it('discards the record and fails when the publish fails', async () => {
    const {
      calls,
      records,
      ports: p,
    } = ports(async () => {
      throw new Error('endpoint down');
    });
    await expect(sendCommand(p, 'ven-1', eventCommand('evt-1', 2, 60, 'c-2'), ctx)).rejects.toThrow('endpoint down');
    expect(calls).toEqual(['record c-2', 'publish ven/cmd/ven-1 qos1', 'discard c-2']);
    expect(records.size).toBe(0);
  });
});
