// The dashboard's MQTT reader: WebSocket frames need not align with MQTT packets.
import { describe, expect, it } from 'vitest';
import { PacketReader } from '../../web/src/live/mqtt-ws.js';

const publish = (topic: string, payload: string) => {
  const t = Buffer.from(topic);
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, Buffer.from(payload)]);
  const length = body.length < 128 ? [body.length] : [(body.length % 128) | 0x80, Math.floor(body.length / 128)];
  return new Uint8Array(Buffer.concat([Buffer.from([0x30, ...length]), body]));
};

describe('PacketReader', () => {
  it('reads two packets from one frame', () => {
    const a = publish('volttron/metering', '{"a":1}');
    const b = publish('ven/ack/ven-001', '{"b":2}');
    const packets = new PacketReader().push(new Uint8Array([...a, ...b]));
    expect(packets.map((p) => p.type)).toEqual([3, 3]);
    expect(Buffer.from(packets[1]!.body).toString()).toContain('{"b":2}');
  });

  it('waits for the rest of a packet split across frames, inside its length bytes too', () => {
    const big = publish('volttron/metering', 'x'.repeat(300)); // a two-byte remaining length
    const reader = new PacketReader();
    expect(reader.push(big.subarray(0, 2))).toEqual([]);
    expect(reader.push(big.subarray(2, 100))).toEqual([]);
    const [packet] = reader.push(big.subarray(100));
    expect(packet?.body.length).toBe(big.length - 3);
    expect(Buffer.from(packet!.body).toString().endsWith('x'.repeat(300))).toBe(true);
  });
});
