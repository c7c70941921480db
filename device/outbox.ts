// Everything a device sends goes through its outbox. Durable messages (telemetry, ACKs) are never lost while the
// link is down: they go to the broker directly when it is up and nothing older waits, otherwise to the on-disk
// buffer, which drains in order on reconnect. Live messages (shadow reports, the telemetry mirror) are only worth
// sending now: while offline they are skipped, and a fresh one follows the reconnect.
import type { DeviceLog } from './log.js';
import type { BufferedMessage, OfflineBuffer } from './offline-buffer.js';

export interface Publisher {
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
}

export interface OutboxOptions {
  /** Messages handed to the broker and not yet acknowledged, at most. */
  readonly window?: number;
  /** How often dropped-message warnings may repeat. */
  readonly dropWarnEveryMs?: number;
  readonly now?: () => number;
}

export interface OutboxStatus {
  readonly online: boolean;
  readonly bufferDepth: number;
  readonly bufferBytes: number;
  readonly dropped: number;
  readonly inflight: number;
  readonly sent: number;
  readonly skipped: number;
  readonly bufferError: string | null;
}

const MAX_ATTEMPTS = 3;

interface Direct {
  readonly message: BufferedMessage;
  done: boolean;
}

export class Outbox {
  private online = false;
  private closing = false;
  private draining = false;
  private readonly direct = new Set<Direct>();
  private inflightFromBuffer = 0;
  private sent = 0;
  private skipped = 0;
  private lastDropWarn = 0;
  private readonly window: number;
  private readonly dropWarnEveryMs: number;
  private readonly now: () => number;
  private idleWaiters: (() => void)[] = [];
  private readonly failures = new Map<number, number>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly publisher: Publisher,
    private readonly buffer: OfflineBuffer,
    private readonly log: DeviceLog,
    options: OutboxOptions = {},
  ) {
    this.window = options.window ?? 32;
    this.dropWarnEveryMs = options.dropWarnEveryMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Telemetry and ACKs: delivered at least once, in order, across outages and restarts. */
  sendDurable(topic: string, payload: string, qos: 0 | 1 = 1): void {
    if (this.closing) return;
    const message = { topic, qos, payload };
    if (this.online && !this.draining && this.buffer.depth === 0 && this.inflight() < this.window) {
      this.publishDirect(message);
      return;
    }
    const dropped = this.buffer.append(message);
    if (dropped > 0) this.reportDrop(dropped);
    if (this.online) this.drain();
  }

  /** Worth sending only now; skipped while offline. */
  sendLive(topic: string, payload: string, qos: 0 | 1 = 0): void {
    if (this.closing) return;
    if (!this.online) {
      this.skipped++;
      return;
    }
    this.publisher.publish(topic, payload, qos).then(
      () => void this.sent++,
      (error: unknown) => this.log.warn('live publish failed', { topic, error: String(error) }),
    );
  }

  setOnline(online: boolean): void {
    this.online = online;
    if (online && this.buffer.depth > 0) this.drain();
  }

  status(): OutboxStatus {
    return {
      online: this.online,
      bufferDepth: this.buffer.depth,
      bufferBytes: this.buffer.bytes,
      dropped: this.buffer.dropped,
      inflight: this.inflight(),
      sent: this.sent,
      skipped: this.skipped,
      bufferError: this.buffer.lastError,
    };
  }

  /** Resolves when nothing waits and nothing is in flight, or after `timeoutMs`; true when idle. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(this.isIdle());
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** Stops sending, before the connection goes: failures from here on are the shutdown, not the messages. */
  beginClose(): void {
    this.closing = true;
    this.online = false;
    this.wake?.();
  }

  /** Messages the broker has not acknowledged go back to disk ahead of the buffered ones. */
  close(): void {
    this.beginClose();
    const unacked = [...this.direct].filter((d) => !d.done).map((d) => d.message);
    this.direct.clear();
    this.buffer.prepend(unacked);
    this.buffer.close();
  }

  private inflight(): number {
    return this.direct.size + this.inflightFromBuffer;
  }

  private isIdle(): boolean {
    return this.inflight() === 0 && this.buffer.depth === 0;
  }

  private publishDirect(message: BufferedMessage): void {
    const entry: Direct = { message, done: false };
    this.direct.add(entry);
    this.publisher.publish(message.topic, message.payload, message.qos).then(
      () => {
        entry.done = true;
        this.direct.delete(entry);
        this.sent++;
        this.settled();
      },
      (error: unknown) => {
        if (this.closing) return;
        entry.done = true;
        this.direct.delete(entry);
        this.log.warn('publish failed: message back in the buffer', { topic: message.topic, error: String(error) });
        this.buffer.append(message);
        this.settled();
      },
    );
  }

  /** Hands buffered messages to the broker in order, keeping at most `window` in flight. */
  private drain(): void {
    if (this.draining || this.closing || !this.online) return;
    this.draining = true;
    void this.drainLoop().finally(() => {
      this.draining = false;
      this.settled();
      if (this.online && !this.closing && this.buffer.waiting > 0) this.drain();
    });
  }

  private async drainLoop(): Promise<void> {
    const started = this.buffer.depth;
    while (this.online && !this.closing) {
      const room = this.window - this.inflight();
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const batch = this.buffer.take(room);
      if (batch.length === 0) break;
      for (const record of batch) {
        this.inflightFromBuffer++;
        this.publisher.publish(record.topic, record.payload, record.qos).then(
          () => {
            this.inflightFromBuffer--;
            this.failures.delete(record.seq);
            this.buffer.ack(record.seq);
            this.sent++;
            this.settled();
          },
          (error: unknown) => {
            this.inflightFromBuffer--;
            if (!this.closing) this.retryOrDrop(record.seq, record.topic, error);
            this.settled();
          },
        );
      }
    }
    if (started > 0)
      this.log.info('buffer drained to the broker', {
        replayed: started - this.buffer.depth,
        bufferDepth: this.buffer.depth,
      });
  }

  /** A refused publish waits in its place for the next drain; one refused again and again is dropped. */
  private retryOrDrop(seq: number, topic: string, error: unknown): void {
    const attempts = (this.failures.get(seq) ?? 0) + 1;
    if (attempts >= MAX_ATTEMPTS) {
      this.failures.delete(seq);
      this.buffer.ack(seq);
      this.log.error('publish refused repeatedly: message dropped', { topic, attempts, error: String(error) });
      return;
    }
    this.failures.set(seq, attempts);
    this.buffer.release(seq);
    this.log.warn('publish failed: message kept for the next attempt', { topic, attempts, error: String(error) });
    this.drain();
  }

  private settled(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private reportDrop(count: number): void {
    const now = this.now();
    if (now - this.lastDropWarn < this.dropWarnEveryMs) return;
    this.lastDropWarn = now;
    this.log.warn('offline buffer full: oldest messages dropped', {
      droppedNow: count,
      droppedTotal: this.buffer.dropped,
      bufferDepth: this.buffer.depth,
      bufferBytes: this.buffer.bytes,
    });
  }
}
