// What every simulated or real device has: one MQTT connection, one outbox over its on-disk buffer, a log, and the
// shared scheduler. Device kinds (VEN, gateway, Winter River node, edge node) add their model and their topics on top.
import { DeviceConnection, type ConnectionOptions, type ConnectionStatus } from './connection.js';
import { topicMatches } from '../lambdas/core/contracts/topics.js';
import type { DeviceLog } from './log.js';
import { OfflineBuffer } from './offline-buffer.js';
import { Outbox, type OutboxStatus } from './outbox.js';
import type { Scheduler } from './scheduler.js';

export type DeviceMode = 'ven' | 'gateway' | 'winter-river' | 'edge';

export interface DeviceStatus {
  readonly thingName: string;
  readonly mode: DeviceMode;
  readonly connection: ConnectionStatus;
  readonly outbox: OutboxStatus;
  readonly state: Record<string, unknown>;
}

export interface Device {
  readonly thingName: string;
  readonly mode: DeviceMode;
  /** Its connection, outbox and log. */
  readonly runtime: DeviceRuntime;
  /** Starts producing and connecting; resolves true once connected within the connect timeout. */
  start(): Promise<boolean>;
  /** Stops producing, flushes what it can to the broker, keeps the rest on disk, disconnects. */
  stop(): Promise<void>;
  status(): DeviceStatus;
}

export type BrokerOptions = Omit<ConnectionOptions, 'thingName' | 'log' | 'certFile' | 'keyFile'>;

export interface RuntimeOptions {
  readonly thingName: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly broker: BrokerOptions;
  /** This device's own directory (its offline buffer lives here). */
  readonly dataDir: string;
  readonly bufferMaxBytes: number;
  readonly log: DeviceLog;
  readonly scheduler: Scheduler;
  readonly now?: () => number;
  /** How long `stop()` waits for the buffer to reach the broker. */
  readonly flushTimeoutMs?: number;
}

export class DeviceRuntime {
  readonly connection: DeviceConnection;
  readonly outbox: Outbox;
  readonly log: DeviceLog;
  readonly scheduler: Scheduler;
  readonly now: () => number;
  private readonly handlers = new Map<string, (payload: string) => void>();
  private readonly onlineHooks: ((sessionPresent: boolean) => void)[] = [];
  private readonly flushTimeoutMs: number;

  constructor(readonly options: RuntimeOptions) {
    this.log = options.log;
    this.scheduler = options.scheduler;
    this.now = options.now ?? Date.now;
    this.flushTimeoutMs = options.flushTimeoutMs ?? 5_000;
    const buffer = OfflineBuffer.open({ dir: options.dataDir, maxBytes: options.bufferMaxBytes });
    if (buffer.depth > 0 || buffer.dropped > 0) {
      this.log.info('offline buffer found on disk', { bufferDepth: buffer.depth, dropped: buffer.dropped });
    }
    this.connection = new DeviceConnection(
      {
        ...options.broker,
        thingName: options.thingName,
        certFile: options.certFile,
        keyFile: options.keyFile,
        log: this.log,
      },
      {
        online: (sessionPresent) => this.handleOnline(sessionPresent),
        offline: () => this.outbox.setOnline(false),
        message: (topic, payload) => this.handleMessage(topic, payload),
      },
    );
    this.outbox = new Outbox(this.connection, buffer, this.log, { now: this.now });
  }

  /** Routes messages on `topic` (a filter with `+`/`#` too) to `handler` and subscribes (QoS 1) on every connection. */
  on(topic: string, handler: (payload: string) => void): void {
    this.handlers.set(topic, handler);
    this.connection.subscribe(topic);
  }

  onOnline(hook: (sessionPresent: boolean) => void): void {
    this.onlineHooks.push(hook);
  }

  start(): Promise<boolean> {
    return this.connection.open();
  }

  async stop(): Promise<void> {
    if (this.connection.isOnline) {
      const idle = await this.outbox.whenIdle(this.flushTimeoutMs);
      if (!idle) this.log.warn('shutdown: buffer not fully flushed, kept on disk', { ...this.outbox.status() });
    }
    this.outbox.beginClose();
    await this.connection.close();
    this.outbox.close();
    const s = this.outbox.status();
    this.log.info('stopped', { bufferDepth: s.bufferDepth, dropped: s.dropped });
  }

  status(): { connection: ConnectionStatus; outbox: OutboxStatus } {
    return { connection: this.connection.status(), outbox: this.outbox.status() };
  }

  private handleOnline(sessionPresent: boolean): void {
    this.outbox.setOnline(true);
    for (const hook of this.onlineHooks) {
      try {
        hook(sessionPresent);
      } catch (error) {
        this.log.error('online hook failed', { error: String(error) });
      }
    }
  }

  private handleMessage(topic: string, payload: string): void {
    const handler =
      this.handlers.get(topic) ??
      [...this.handlers].find(([filter]) => /[+#]/.test(filter) && topicMatches(filter, topic))?.[1];
    if (!handler) {
      this.log.debug('message on an unexpected topic', { topic });
      return;
    }
    try {
      handler(payload);
    } catch (error) {
      this.log.error('message handler failed', { topic, error: String(error) });
    }
  }
}

/** Remembers the ACK of recent commands so a QoS 1 redelivery gets the same ACK and is not applied twice. */
export class RecentAcks<T> {
  private readonly entries = new Map<string, T>();
  constructor(private readonly capacity = 128) {}

  get(correlationId: string): T | undefined {
    return this.entries.get(correlationId);
  }

  set(correlationId: string, ack: T): void {
    this.entries.delete(correlationId);
    this.entries.set(correlationId, ack);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
