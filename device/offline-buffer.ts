// Store and forward: a bounded, append-only, on-disk queue of messages waiting for the broker.
//
// Layout under `dir`: `outbox.<gen>.log` holds one JSON line per message; `cursor.json` says which generation is
// live, the byte offset of its first message not yet delivered, and how many messages the bound has dropped.
// Appends go to the end of the log; delivery only moves the cursor. When everything is delivered, or the delivered
// prefix outgrows the bound, a new generation starts (written first, then named by the cursor, then the old one
// removed), so a crash at any point leaves a consistent pair. A torn last line (crash mid-append) is cut off on open.
//
// Over the bound the oldest undelivered messages are dropped and counted. Delivery is at least once: messages
// handed to the broker but not yet acknowledged when the process stops are sent again after a restart.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { join } from 'node:path';

export interface BufferedMessage {
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly payload: string;
}

export interface BufferRecord extends BufferedMessage {
  /** In-memory sequence number for `ack`; not stable across restarts. */
  readonly seq: number;
}

export interface OfflineBufferOptions {
  readonly dir: string;
  /** Upper bound on the bytes of undelivered messages. */
  readonly maxBytes: number;
  /** How long cursor writes may be coalesced after deliveries. */
  readonly cursorFlushMs?: number;
}

type State = 'pending' | 'taken' | 'done';

interface Entry {
  seq: number;
  offset: number;
  length: number;
  state: State;
}

interface Cursor {
  gen: number;
  offset: number;
  dropped: number;
}

const CURSOR = 'cursor.json';
const logName = (gen: number) => `outbox.${gen}.log`;
const LOG_PATTERN = /^outbox\.(\d+)\.log$/;

export class OfflineBuffer {
  private entries: Entry[] = [];
  /** Index of the first entry not yet done. */
  private head = 0;
  /** Index of the first pending entry at or after `head`. */
  private nextTake = 0;
  private gen = 0;
  private fileSize = 0;
  private liveBytes = 0;
  private liveCount = 0;
  private droppedTotal = 0;
  private seqCounter = 0;
  private error: string | null = null;
  private cursorOffset = 0;
  private cursorTimer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;

  private constructor(private readonly options: OfflineBufferOptions) {
    this.flushMs = options.cursorFlushMs ?? 200;
  }

  static open(options: OfflineBufferOptions): OfflineBuffer {
    const buffer = new OfflineBuffer(options);
    buffer.load();
    return buffer;
  }

  /** Messages not yet delivered (waiting or handed to the broker). */
  get depth(): number {
    return this.liveCount;
  }

  get bytes(): number {
    return this.liveBytes;
  }

  /** Messages dropped by the bound, over the buffer's whole life on this disk. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** The last disk error (a write that failed cost its message, counted as dropped). */
  get lastError(): string | null {
    return this.error;
  }

  /** Messages waiting to be handed to the broker. */
  get waiting(): number {
    let n = 0;
    for (let i = this.nextTake; i < this.entries.length; i++) if (this.entries[i]!.state === 'pending') n++;
    return n;
  }

  /** Appends a message; returns how many older ones the bound dropped to make room (the message itself if too big). */
  append(message: BufferedMessage): number {
    const line = encode(message);
    const length = Buffer.byteLength(line);
    if (length > this.options.maxBytes) {
      this.countDropped(1);
      return 1;
    }
    let dropped = 0;
    while (this.liveBytes + length > this.options.maxBytes && this.dropOldestPending()) dropped++;
    if (this.liveBytes + length > this.options.maxBytes) {
      this.countDropped(dropped + 1);
      return dropped + 1;
    }
    try {
      appendFileSync(this.logPath(this.gen), line);
    } catch (error) {
      this.error = String(error);
      this.countDropped(dropped + 1);
      return dropped + 1;
    }
    this.entries.push({ seq: ++this.seqCounter, offset: this.fileSize, length, state: 'pending' });
    this.fileSize += length;
    this.liveBytes += length;
    this.liveCount++;
    if (dropped > 0) this.countDropped(dropped);
    return dropped;
  }

  /** The next `max` waiting messages, oldest first, now marked as handed over. */
  take(max: number): BufferRecord[] {
    const picked: Entry[] = [];
    let i = this.nextTake;
    for (; i < this.entries.length && picked.length < max; i++) {
      const e = this.entries[i]!;
      if (e.state !== 'pending') continue;
      e.state = 'taken';
      picked.push(e);
    }
    this.nextTake = i;
    if (picked.length === 0) return [];
    const first = picked[0]!;
    const last = picked[picked.length - 1]!;
    const bytes = readRange(this.logPath(this.gen), first.offset, last.offset + last.length - first.offset);
    return picked.map((e) => ({
      seq: e.seq,
      ...decode(bytes.subarray(e.offset - first.offset, e.offset - first.offset + e.length).toString('utf8')),
    }));
  }

  /** The broker has the message: it leaves the buffer. */
  ack(seq: number): void {
    const e = this.find(seq);
    if (!e || e.state === 'done') return;
    this.markDone(e);
    this.advance();
  }

  /** The broker did not take it after all: it waits again, in its place. */
  release(seq: number): void {
    const e = this.find(seq);
    if (!e || e.state !== 'taken') return;
    e.state = 'pending';
    const index = this.entries.indexOf(e, this.head);
    if (index >= 0 && index < this.nextTake) this.nextTake = index;
  }

  /** Puts messages ahead of everything buffered (delivery attempts cut short by shutdown). */
  prepend(messages: readonly BufferedMessage[]): void {
    if (messages.length === 0) return;
    const live = this.entries.slice(this.head).filter((e) => e.state !== 'done');
    const tail =
      live.length > 0
        ? readRange(this.logPath(this.gen), this.cursorOffset, this.fileSize - this.cursorOffset)
        : Buffer.alloc(0);
    const head = Buffer.from(messages.map(encode).join(''));
    const next = this.gen + 1;
    writeFileSync(this.logPath(next), Buffer.concat([head, tail]));
    this.switchTo(next, head.length + tail.length);
    this.load();
  }

  /** Writes the cursor now (shutdown, tests). */
  flush(): void {
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = undefined;
    this.writeCursor();
  }

  close(): void {
    this.flush();
  }

  private load(): void {
    mkdirSync(this.options.dir, { recursive: true });
    const cursor = this.readCursor();
    this.gen = cursor.gen;
    this.droppedTotal = cursor.dropped;
    for (const name of readdirSync(this.options.dir)) {
      const m = LOG_PATTERN.exec(name);
      if (m && Number(m[1]) !== this.gen) rmSync(join(this.options.dir, name), { force: true });
    }
    rmSync(join(this.options.dir, `${CURSOR}.tmp`), { force: true });
    const path = this.logPath(this.gen);
    this.entries = [];
    this.head = 0;
    this.nextTake = 0;
    this.liveBytes = 0;
    this.liveCount = 0;
    this.fileSize = existsSync(path) ? statSync(path).size : 0;
    const start = Math.min(cursor.offset, this.fileSize);
    this.cursorOffset = start;
    if (this.fileSize === 0) return;
    const data = readRange(path, start, this.fileSize - start);
    let offset = start;
    let corrupt = 0;
    let pos = 0;
    while (pos < data.length) {
      const nl = data.indexOf(0x0a, pos);
      if (nl < 0) {
        truncateSync(path, offset);
        this.fileSize = offset;
        break;
      }
      const length = nl + 1 - pos;
      const line = data.subarray(pos, nl).toString('utf8');
      if (isMessage(line)) {
        this.entries.push({ seq: ++this.seqCounter, offset, length, state: 'pending' });
        this.liveBytes += length;
        this.liveCount++;
      } else {
        corrupt++;
      }
      offset += length;
      pos = nl + 1;
    }
    let dropped = corrupt;
    while (this.liveBytes > this.options.maxBytes && this.dropOldestPending()) dropped++;
    if (dropped > 0) this.countDropped(dropped);
    this.advance();
  }

  private dropOldestPending(): boolean {
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.state !== 'pending') continue;
      this.markDone(e);
      if (i === this.nextTake) this.nextTake++;
      this.advance();
      return true;
    }
    return false;
  }

  private markDone(e: Entry): void {
    if (e.state === 'done') return;
    e.state = 'done';
    this.liveBytes -= e.length;
    this.liveCount--;
  }

  /** Moves the cursor past the delivered prefix; starts a new generation when worthwhile. */
  private advance(): void {
    const before = this.head;
    while (this.head < this.entries.length && this.entries[this.head]!.state === 'done') this.head++;
    if (this.nextTake < this.head) this.nextTake = this.head;
    if (this.head === before) return;
    this.cursorOffset = this.head < this.entries.length ? this.entries[this.head]!.offset : this.fileSize;
    if (this.head === this.entries.length) {
      this.rotateEmpty();
      return;
    }
    if (this.cursorOffset > Math.max(this.options.maxBytes, 1 << 20)) {
      this.compact();
      return;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.nextTake -= this.head;
      this.head = 0;
    }
    this.scheduleCursor();
  }

  private rotateEmpty(): void {
    const old = this.gen;
    this.entries = [];
    this.head = 0;
    this.nextTake = 0;
    this.switchTo(old + 1, 0);
  }

  private compact(): void {
    const shift = this.cursorOffset;
    const tail = readRange(this.logPath(this.gen), shift, this.fileSize - shift);
    const next = this.gen + 1;
    writeFileSync(this.logPath(next), tail);
    this.entries = this.entries.slice(this.head).map((e) => ({ ...e, offset: e.offset - shift }));
    this.nextTake -= this.head;
    this.head = 0;
    this.switchTo(next, tail.length);
  }

  /** The cursor names the new generation first; only then does the old log go. */
  private switchTo(gen: number, fileSize: number): void {
    const old = this.gen;
    this.gen = gen;
    this.fileSize = fileSize;
    this.cursorOffset = 0;
    this.flush();
    if (old !== gen) rmSync(this.logPath(old), { force: true });
  }

  private countDropped(n: number): void {
    this.droppedTotal += n;
    this.scheduleCursor();
  }

  private scheduleCursor(): void {
    if (this.cursorTimer) return;
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = undefined;
      try {
        this.writeCursor();
      } catch (error) {
        this.error = String(error);
      }
    }, this.flushMs);
    this.cursorTimer.unref();
  }

  private writeCursor(): void {
    const cursor: Cursor = { gen: this.gen, offset: this.cursorOffset, dropped: this.droppedTotal };
    const path = join(this.options.dir, CURSOR);
    writeFileSync(`${path}.tmp`, JSON.stringify(cursor));
    renameSync(`${path}.tmp`, path);
  }

  private readCursor(): Cursor {
    try {
      const raw = JSON.parse(readRange(join(this.options.dir, CURSOR)).toString('utf8')) as Partial<Cursor>;
      const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
      if (ok(raw.gen) && ok(raw.offset) && ok(raw.dropped))
        return { gen: raw.gen, offset: raw.offset, dropped: raw.dropped };
    } catch {
      // no cursor yet: a fresh buffer
    }
    const gens = existsSync(this.options.dir)
      ? readdirSync(this.options.dir).flatMap((n) => (LOG_PATTERN.test(n) ? [Number(LOG_PATTERN.exec(n)![1])] : []))
      : [];
    return { gen: gens.length > 0 ? Math.min(...gens) : 0, offset: 0, dropped: 0 };
  }

  private find(seq: number): Entry | undefined {
    let lo = this.head;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.entries[mid]!.seq;
      if (s === seq) return this.entries[mid];
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private logPath(gen: number): string {
    return join(this.options.dir, logName(gen));
  }
}

const encode = (m: BufferedMessage): string => `${JSON.stringify({ t: m.topic, q: m.qos, p: m.payload })}\n`;

function decode(line: string): BufferedMessage {
  const v = JSON.parse(line) as { t: string; q: 0 | 1; p: string };
  return { topic: v.t, qos: v.q, payload: v.p };
}

function isMessage(line: string): boolean {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    return typeof v['t'] === 'string' && (v['q'] === 0 || v['q'] === 1) && typeof v['p'] === 'string';
  } catch {
    return false;
  }
}

function readRange(path: string, offset = 0, length?: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = length ?? statSync(path).size - offset;
    const out = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, out, read, size - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    return out.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
