// A device's MQTT 3.1.1 connection over mutual TLS (AWS IoT Device SDK v2, `mqtt` not `mqtt5`: the local broker
// speaks 3.1.1 only). Client id = thing name = certificate CN. Shape after the SDK samples: explicit config, named
// lifecycle handlers, a timed connect and an ordered shutdown (unsubscribe, then disconnect).
//
// After the first success the SDK reconnects by itself (backoff between reconnectMinSec and reconnectMaxSec); a
// first connect that fails is retried here on the same backoff. Subscriptions are made again on every connection,
// since a broker that lost the session (restart, clean start) no longer has them.
import { io, iot, mqtt } from 'aws-iot-device-sdk-v2';
import type { DeviceLog } from './log.js';

export interface ConnectionOptions {
  readonly thingName: string;
  readonly host: string;
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  readonly keepAliveSec?: number;
  readonly reconnectMinSec?: number;
  readonly reconnectMaxSec?: number;
  readonly connectTimeoutMs?: number;
  readonly log: DeviceLog;
}

export interface ConnectionHandlers {
  /** Connected (first time or again); subscriptions are being renewed. */
  online(sessionPresent: boolean): void;
  offline(reason: string): void;
  message(topic: string, payload: string): void;
}

export type ConnectionState = 'idle' | 'connecting' | 'online' | 'offline' | 'closed';

export interface ConnectionStatus {
  readonly state: ConnectionState;
  readonly endpoint: string;
  readonly connectedAt: string | null;
  readonly disconnectedAt: string | null;
  readonly connects: number;
  readonly interruptions: number;
  readonly lastError: string | null;
}

const errorText = (error: unknown): string => {
  const e = error as { error_name?: string; message?: string } | undefined;
  return e?.error_name ?? e?.message ?? String(error);
};

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class DeviceConnection {
  private connection: mqtt.MqttClientConnection | undefined;
  private readonly subscriptions = new Map<string, mqtt.QoS>();
  private state: ConnectionState = 'idle';
  private closing = false;
  private attempt: Promise<boolean> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelaySec: number;
  private connects = 0;
  private interruptions = 0;
  private connectedAt: Date | null = null;
  private disconnectedAt: Date | null = null;
  private lastError: string | null = null;
  /** Bumped on every interruption: a reconnect still renewing subscriptions when the link drops again is stale. */
  private epoch = 0;
  private readonly log: DeviceLog;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.log = options.log;
    this.retryDelaySec = options.reconnectMinSec ?? 1;
  }

  /**
   * Starts connecting. Resolves true once connected, false if not connected within the connect timeout; in that
   * case attempts go on in the background until `close()`.
   */
  async open(): Promise<boolean> {
    if (this.connection) throw new Error('connection already opened');
    this.connection = this.build();
    this.state = 'connecting';
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    try {
      return await withTimeout(this.tryConnect(), timeoutMs, 'connect');
    } catch (error) {
      this.lastError = errorText(error);
      this.log.warn('not connected yet: retrying in the background', { error: this.lastError });
      return false;
    }
  }

  /** Subscribes now if online, and again after every reconnect. */
  subscribe(filter: string, qos: mqtt.QoS = mqtt.QoS.AtLeastOnce): void {
    this.subscriptions.set(filter, qos);
    if (this.state === 'online') void this.subscribeOne(filter, qos);
  }

  async publish(topic: string, payload: string, qos: 0 | 1): Promise<void> {
    if (!this.connection || this.closing) throw new Error('connection is not open');
    await this.connection.publish(topic, payload, qos === 1 ? mqtt.QoS.AtLeastOnce : mqtt.QoS.AtMostOnce);
  }

  get isOnline(): boolean {
    return this.state === 'online';
  }

  status(): ConnectionStatus {
    return {
      state: this.state,
      endpoint: `${this.options.host}:${this.options.port}`,
      connectedAt: this.connectedAt?.toISOString() ?? null,
      disconnectedAt: this.disconnectedAt?.toISOString() ?? null,
      connects: this.connects,
      interruptions: this.interruptions,
      lastError: this.lastError,
    };
  }

  /** Ordered shutdown: stop retrying, unsubscribe, disconnect. Never throws. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.retryTimer);
    const connection = this.connection;
    if (!connection) {
      this.state = 'closed';
      return;
    }
    if (this.attempt) await withTimeout(this.attempt, timeoutMs, 'pending connect').catch(() => false);
    if (this.state === 'online') {
      for (const filter of this.subscriptions.keys()) {
        await withTimeout(connection.unsubscribe(filter), timeoutMs, `unsubscribe ${filter}`).catch((error: unknown) =>
          this.log.warn('unsubscribe failed', { filter, error: errorText(error) }),
        );
      }
    }
    // disconnect() may never settle on a connection the broker already dropped: wait less for it then
    const wasOnline = this.state === 'online';
    await withTimeout(connection.disconnect(), wasOnline ? timeoutMs : 1_000, 'disconnect').catch((error: unknown) =>
      this.log.debug('disconnect', { error: errorText(error) }),
    );
    this.state = 'closed';
  }

  private build(): mqtt.MqttClientConnection {
    const o = this.options;
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(o.certFile, o.keyFile)
      .with_certificate_authority_from_path(undefined, o.caFile)
      .with_endpoint(o.host)
      .with_port(o.port)
      .with_client_id(o.thingName)
      .with_clean_session(false)
      .with_keep_alive_seconds(o.keepAliveSec ?? 30)
      .with_reconnect_min_sec(o.reconnectMinSec ?? 1)
      .with_reconnect_max_sec(o.reconnectMaxSec ?? 64)
      .with_socket_options(
        new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.IPV4, o.connectTimeoutMs ?? 10_000),
      )
      .build();
    const connection = new mqtt.MqttClient().new_connection(config);
    connection.on('connect', (sessionPresent) => this.handleConnect(sessionPresent));
    connection.on('interrupt', (error) => this.handleInterrupt(error));
    connection.on('resume', (_returnCode, sessionPresent) => this.handleResume(sessionPresent));
    connection.on('closed', () => this.handleClosed());
    connection.on('connection_failure', (result) => this.handleConnectionFailure(result));
    connection.on('message', (topic, payload) => this.handleMessage(topic, payload));
    connection.on('error', (error) => this.log.error('mqtt error', { error: errorText(error) }));
    return connection;
  }

  private tryConnect(): Promise<boolean> {
    const connection = this.connection!;
    this.attempt = connection.connect().then(
      async (sessionPresent) => {
        await this.becomeOnline(sessionPresent);
        return true;
      },
      (error: unknown) => {
        this.lastError = errorText(error);
        this.scheduleRetry();
        return false;
      },
    );
    return this.attempt.then((ok) => {
      this.attempt = undefined;
      if (!ok) throw new Error(this.lastError ?? 'connect failed');
      return ok;
    });
  }

  private scheduleRetry(): void {
    if (this.closing) return;
    const delaySec = this.retryDelaySec * (0.5 + Math.random() / 2);
    this.retryDelaySec = Math.min(this.retryDelaySec * 2, this.options.reconnectMaxSec ?? 64);
    this.retryTimer = setTimeout(() => {
      if (this.closing) return;
      this.tryConnect().catch(() => {});
    }, delaySec * 1000);
  }

  /** First connection; `tryConnect` takes it online once its connect() settles. */
  private handleConnect(sessionPresent: boolean): void {
    this.log.info('connected', { endpoint: `${this.options.host}:${this.options.port}`, sessionPresent });
  }

  private handleResume(sessionPresent: boolean): void {
    this.log.info('connection resumed', { sessionPresent, interruptions: this.interruptions });
    void this.becomeOnline(sessionPresent);
  }

  private handleInterrupt(error: unknown): void {
    this.epoch++;
    this.interruptions++;
    this.lastError = errorText(error);
    this.disconnectedAt = new Date();
    if (this.state !== 'closed') this.state = 'offline';
    this.log.warn('connection interrupted', { error: this.lastError });
    this.handlers.offline(this.lastError);
  }

  private handleClosed(): void {
    const wasOnline = this.state === 'online';
    this.state = 'closed';
    this.disconnectedAt = new Date();
    this.log.info('connection closed');
    if (wasOnline) this.handlers.offline('closed');
  }

  private handleConnectionFailure(result: mqtt.OnConnectionFailedResult): void {
    this.lastError = errorText(result.error);
    this.log.debug('connect attempt failed', { error: this.lastError });
  }

  private handleMessage(topic: string, payload: ArrayBuffer): void {
    this.handlers.message(topic, Buffer.from(payload).toString('utf8'));
  }

  /** Online once every subscription is renewed, so that commands sent from then on reach the device. */
  private async becomeOnline(sessionPresent: boolean): Promise<void> {
    if (this.closing) return;
    const epoch = this.epoch;
    this.connects++;
    this.connectedAt = new Date();
    this.retryDelaySec = this.options.reconnectMinSec ?? 1;
    await Promise.all([...this.subscriptions].map(([filter, qos]) => this.subscribeOne(filter, qos)));
    if (this.closing || epoch !== this.epoch) return;
    this.state = 'online';
    this.handlers.online(sessionPresent);
  }

  private async subscribeOne(filter: string, qos: mqtt.QoS): Promise<void> {
    try {
      const granted = await this.connection!.subscribe(filter, qos);
      if (granted.error_code || (granted.qos as number) === 128) {
        this.log.error('subscription refused', { filter, errorCode: granted.error_code, qos: granted.qos });
      }
    } catch (error) {
      if (!this.closing) this.log.warn('subscribe failed', { filter, error: errorText(error) });
    }
  }
}
