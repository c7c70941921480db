import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OfflineBuffer, type BufferedMessage } from '../../device/offline-buffer.js';
import { tempDir } from './helpers.js';

let dir: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  dir = await tempDir('vpp-buffer-');
});
afterEach(() => dir.remove());

const msg = (n: number, topic = 'volttron/metering'): BufferedMessage => ({
  topic,
  qos: 1,
  payload: JSON.stringify({ n }),
});
const n = (m: BufferedMessage) => (JSON.parse(m.payload) as { n: number }).n;
/** The on-disk size of one message line, to set exact bounds. */
const lineBytes = (m: BufferedMessage) =>
  Buffer.byteLength(`${JSON.stringify({ t: m.topic, q: m.qos, p: m.payload })}\n`);

const opened: OfflineBuffer[] = [];
const open = (maxBytes = 1 << 20) => {
  const b = OfflineBuffer.open({ dir: dir.path, maxBytes });
  opened.push(b);
  return b;
};
afterEach(() => {
  for (const b of opened.splice(0)) b.close();
});

function drainAll(buffer: OfflineBuffer): number[] {
  const out: number[] = [];
  for (let batch = buffer.take(7); batch.length > 0; batch = buffer.take(7)) {
    for (const r of batch) {
      out.push(n(r));
      buffer.ack(r.seq);
    }
  }
  return out;
}

describe('OfflineBuffer', () => {
  it('gives messages back in order, with topic and QoS', () => {
    const b = open();
    b.append({ topic: 'ven/ack/ven-001', qos: 1, payload: '{"op":"ping"}' });
    for (let i = 0; i < 20; i++) b.append(msg(i));
    expect(b.depth).toBe(21);
    const [first] = b.take(1);
    expect(first).toMatchObject({ topic: 'ven/ack/ven-001', qos: 1, payload: '{"op":"ping"}' });
    b.ack(first!.seq);
    expect(drainAll(b)).toEqual([...Array(20).keys()]);
    expect(b.depth).toBe(0);
  });

  it('survives a restart: what was not acknowledged comes back, in order', () => {
    const b = open();
    for (let i = 0; i < 10; i++) b.append(msg(i));
    for (const r of b.take(4)) b.ack(r.seq);
    b.take(2); // handed to the broker, never acknowledged
    b.close();
    const again = open();
    expect(again.depth).toBe(6);
    expect(drainAll(again)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('keeps everything up to the bound and drops the oldest beyond it, counting them', () => {
    const size = lineBytes(msg(0));
    const b = open(size * 5);
    for (let i = 0; i < 5; i++) expect(b.append(msg(i))).toBe(0);
    expect(b.dropped).toBe(0);
    expect(b.append(msg(5))).toBe(1);
    expect(b.append(msg(6))).toBe(1);
    expect(b.dropped).toBe(2);
    expect(b.bytes).toBe(size * 5);
    expect(drainAll(b)).toEqual([2, 3, 4, 5, 6]);
  });

  it('remembers the dropped count across restarts', () => {
    const size = lineBytes(msg(0));
    const b = open(size * 2);
    for (let i = 0; i < 5; i++) b.append(msg(i));
    b.close();
    const again = open(size * 2);
    expect(again.dropped).toBe(3);
    expect(drainAll(again)).toEqual([3, 4]);
  });

  it('drops a message larger than the whole bound, and counts it', () => {
    const b = open(64);
    expect(b.append({ topic: 't', qos: 1, payload: 'x'.repeat(100) })).toBe(1);
    expect(b.depth).toBe(0);
    expect(b.dropped).toBe(1);
  });

  it('never drops a message already handed to the broker', () => {
    const size = lineBytes(msg(0));
    const b = open(size * 3);
    for (let i = 0; i < 3; i++) b.append(msg(i));
    const taken = b.take(1);
    b.append(msg(3));
    b.ack(taken[0]!.seq);
    expect(drainAll(b)).toEqual([2, 3]);
    expect(b.dropped).toBe(1);
  });

  it('cuts off a line torn by a crash mid-append', () => {
    const b = open();
    for (let i = 0; i < 3; i++) b.append(msg(i));
    b.close();
    const log = readdirSync(dir.path).find((f) => f.endsWith('.log'))!;
    appendFileSync(join(dir.path, log), '{"t":"volttron/metering","q":1,"p":"{\\"n\\"');
    const again = open();
    expect(again.depth).toBe(3);
    again.append(msg(3));
    expect(drainAll(again)).toEqual([0, 1, 2, 3]);
  });

  it('skips a corrupt line and counts it as dropped', () => {
    const b = open();
    b.append(msg(0));
    b.close();
    const log = readdirSync(dir.path).find((f) => f.endsWith('.log'))!;
    appendFileSync(join(dir.path, log), 'garbage\n');
    appendFileSync(join(dir.path, log), `${JSON.stringify({ t: 'volttron/metering', q: 1, p: '{"n":1}' })}\n`);
    const again = open();
    expect(again.dropped).toBe(1);
    expect(drainAll(again)).toEqual([0, 1]);
  });

  it('starts a fresh file once everything is delivered, removing the old one', () => {
    const b = open();
    for (let i = 0; i < 5; i++) b.append(msg(i));
    const before = readdirSync(dir.path).filter((f) => f.endsWith('.log'));
    drainAll(b);
    const after = readdirSync(dir.path).filter((f) => f.endsWith('.log'));
    expect(after).not.toEqual(before);
    expect(after).toHaveLength(0);
    expect(JSON.parse(readFileSync(join(dir.path, 'cursor.json'), 'utf8'))).toMatchObject({ offset: 0 });
    b.append(msg(5));
    b.close();
    expect(drainAll(open())).toEqual([5]);
  });

  it('keeps the file bounded while staying offline for long (drops, then compacts)', () => {
    const size = lineBytes(msg(99_999));
    const b = open(size * 10);
    for (let i = 0; i < 100_000; i++) b.append(msg(i));
    const log = readdirSync(dir.path).find((f) => f.endsWith('.log'))!;
    const fileSize = readFileSync(join(dir.path, log)).length;
    expect(fileSize).toBeLessThanOrEqual(Math.max(size * 10, 1 << 20) + size * 11);
    expect(b.depth).toBe(10);
    expect(b.dropped).toBe(99_990);
    b.close();
    expect(drainAll(open(size * 10))).toEqual([...Array(10).keys()].map((i) => 99_990 + i));
  });

  it('a disk that refuses writes costs the message, counted as dropped, not the process', () => {
    const b = open();
    b.append(msg(0));
    b.close();
    const log = readdirSync(dir.path).find((f) => f.endsWith('.log'))!;
    rmSync(join(dir.path, log));
    mkdirSync(join(dir.path, log));
    expect(b.append(msg(1))).toBe(1);
    expect(b.dropped).toBe(1);
    expect(b.lastError).toMatch(/EISDIR/);
  });

  it('release puts a message the broker did not take back in its place', () => {
    const b = open();
    for (let i = 0; i < 4; i++) b.append(msg(i));
    const [m0, m1] = b.take(2);
    b.ack(m0!.seq);
    b.release(m1!.seq);
    expect(drainAll(b)).toEqual([1, 2, 3]);
  });

  it('prepend puts messages ahead of the buffered ones, durably', () => {
    const b = open();
    b.append(msg(2));
    b.append(msg(3));
    b.prepend([msg(0), msg(1)]);
    b.close();
    expect(drainAll(open())).toEqual([0, 1, 2, 3]);
  });

  it('a cursor that names a missing generation starts clean', () => {
    writeFileSync(join(dir.path, 'cursor.json'), JSON.stringify({ gen: 7, offset: 999, dropped: 4 }));
    const b = open();
    expect(b.depth).toBe(0);
    expect(b.dropped).toBe(4);
    b.append(msg(1));
    expect(drainAll(b)).toEqual([1]);
  });
});
