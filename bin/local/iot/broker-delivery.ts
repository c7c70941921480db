// The broker's fan-out, bounded: one client that does not read holds its own queue, never the broker's delivery.
// aedes delivers each message through its emitter (mqemitter, 100 messages at once) and, when a client's socket
// buffer is full, holds that message's slot until the client's socket drains. A client that stops reading takes every
// slot in turn, and then no publish reaches anyone.
import type { Aedes } from 'aedes';
import type { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Bytes a client's connection may hold in the broker, written but not yet taken by its socket (beyond what the
 * kernel's socket buffers hold). Eight largest messages (128 KiB): a reader on a slow link has seconds of the live
 * feed's backlog before this; one that stopped reading is dropped, as IoT Core throttles and drops slow consumers.
 */
export const MAX_OUTGOING_BYTES = 1024 * 1024;

/**
 * Makes `conn` (the stream aedes writes a client's packets to) report no back-pressure to aedes, so that no delivery
 * waits for the client's `drain`: the stream's own buffer is the client's queue, drained by its socket. When the queue
 * passes `maxBytes` the connection is destroyed (aedes then closes the client and frees what it held).
 */
export function boundOutgoing<T extends Writable>(
  conn: T,
  onOverflow: (queuedBytes: number) => void,
  maxBytes = MAX_OUTGOING_BYTES,
): T {
  const write = conn.write as (...args: unknown[]) => boolean;
  conn.write = function boundedWrite(this: T, ...args: unknown[]): boolean {
    write.apply(this, args);
    if (this.writableLength > maxBytes && !this.destroyed) {
      onOverflow(this.writableLength);
      this.destroy();
    }
    return true;
  } as T['write'];
  return conn;
}

/** Synchronous re-entries into the emitter past which the next message waits for the next turn of the event loop. */
export const MAX_SYNC_DELIVERIES = 64;

interface Emitter {
  current: number;
  _do(message: unknown, callback: () => void): Emitter;
  on(topic: string, notify: (packet: unknown, done: () => void) => void): Emitter;
}
const emitterOf = (aedes: Aedes) => (aedes as unknown as { mq: Emitter }).mq;

/**
 * Guards aedes' emitter: a message that completes at once (no subscriber) hands its slot straight to the next queued
 * one, on the same stack, so a long queue overflows the stack (`RangeError`, uncaught). Past MAX_SYNC_DELIVERIES
 * nested deliveries the next one keeps the slot and runs on the next turn (order kept: the queue waits behind it).
 * An exception thrown by a delivery is logged, not thrown into whichever connection happened to publish, and so is an
 * `error` the broker emits.
 */
export function guardEmitter(aedes: Aedes, log: (line: string) => void): void {
  // aedes reports a failed store as an `error` event: without a listener that is thrown, and the process exits
  (aedes as unknown as EventEmitter).on('error', (err: Error) => log(`error: broker: ${err.message}`));
  const mq = emitterOf(aedes);
  const run = mq._do;
  let depth = 0;
  mq._do = function guardedDo(this: Emitter, message, callback) {
    if (depth >= MAX_SYNC_DELIVERIES) {
      this.current++;
      setImmediate(() => {
        this.current--;
        guardedDo.call(this, message, callback);
      });
      return this;
    }
    depth++;
    try {
      return run.call(this, message, callback);
    } catch (err) {
      log(`error: broker delivery of ${(message as { topic?: string }).topic} threw: ${(err as Error).stack ?? err}`);
      return this;
    } finally {
      depth--;
    }
  };
}

export interface DeliveryProbe {
  /** Whether the broker delivers: its last probe arrived, or was sent less than `stallMs` ago. */
  readonly delivering: boolean;
  /** The age of the probe still on its way, 0 if none. */
  readonly stalledMs: number;
  stop(): void;
}

/**
 * The broker publishes a probe to itself every `intervalMs` (on a `$SYS/` topic no client may subscribe to) and waits
 * for it on its own emitter, behind every message ahead of it: a probe older than `stallMs` means deliveries stalled.
 */
export function deliveryProbe(aedes: Aedes, opts: { intervalMs?: number; stallMs?: number } = {}): DeliveryProbe {
  const intervalMs = opts.intervalMs ?? 500;
  const stallMs = opts.stallMs ?? 3000;
  const topic = `$SYS/${aedes.id}/delivery-probe`;
  let sentAt: number | undefined;
  emitterOf(aedes).on(topic, (_packet, done) => {
    sentAt = undefined;
    done();
  });
  const timer = setInterval(() => {
    if (sentAt !== undefined || aedes.closed) return;
    sentAt = Date.now();
    aedes.publish(
      { cmd: 'publish', topic, payload: Buffer.alloc(0), qos: 0, retain: false, dup: false },
      () => undefined,
    );
  }, intervalMs);
  timer.unref();
  const stalledMs = () => (sentAt === undefined ? 0 : Date.now() - sentAt);
  return {
    get delivering() {
      return stalledMs() < stallMs;
    },
    get stalledMs() {
      return stalledMs();
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * An exception in the forwarding check (the broker's own code, run once per subscriber and message) drops that
 * subscriber and is logged; it never reaches the connection that published.
 */
export function guardForward(aedes: Aedes, log: (line: string) => void): void {
  const forward = aedes.authorizeForward;
  aedes.authorizeForward = function guardedForward(client, packet) {
    try {
      return forward.call(this, client, packet);
    } catch (err) {
      log(`error: forwarding ${packet.topic} to ${client?.id} threw, client dropped: ${(err as Error).message}`);
      client?.close();
      return null;
    }
  };
}
