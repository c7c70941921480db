// Edge mode: a data-centre edge node (client id = its dc_id). Telemetry every few seconds on `edge/{dc_id}/telemetry`
// (QoS 0, buffered on disk while offline), `online` on `edge/{dc_id}/status` on every connection and `offline` before a
// clean stop, commands on `edge/{dc_id}/control` applied to its battery and answered on `edge/{dc_id}/ack`.
import { edgeCommandSchema, type EdgeAck } from '../lambdas/core/contracts/edge-schemas.js';
import { parse } from '../lambdas/core/contracts/schemas.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import { EdgeNodeModel } from './edge-node.js';
import { PeriodicDevice } from './periodic-device.js';
import type { Rng } from './random.js';
import { RecentAcks, type DeviceRuntime } from './runtime.js';

export interface EdgeOptions {
  readonly runtime: DeviceRuntime;
  readonly thingName: string;
  readonly rng: Rng;
  readonly telemetryMs: number;
}

export class EdgeDevice extends PeriodicDevice {
  readonly mode = 'edge' as const;
  readonly node: EdgeNodeModel;
  private readonly acks = new RecentAcks<EdgeAck>();

  constructor(options: EdgeOptions) {
    super(options.runtime, options.thingName, options.telemetryMs);
    this.node = new EdgeNodeModel(options.thingName, options.rng, this.rt.now());
    this.rt.on(topics.edgeControl(this.thingName), (p) => this.handleCommand(p));
    this.rt.onOnline(() => this.publishStatus('online'));
  }

  /** Says `offline` on its status topic before a clean stop (its Last Will says so after an unclean one). */
  override async stop(): Promise<void> {
    if (this.rt.connection.isOnline) this.publishStatus('offline');
    await super.stop();
  }

  protected state(): Record<string, unknown> {
    return {
      soc: Math.round(this.node.soc * 100) / 100,
      charge_rate_kw: this.node.chargeRateKw,
      battery_kwh: this.node.batteryKwh,
    };
  }

  protected tick(): void {
    this.publishTelemetry();
  }

  publishTelemetry(): void {
    this.rt.outbox.sendDurable(
      topics.edgeTelemetry(this.thingName),
      JSON.stringify(this.node.telemetry(this.rt.now())),
      0,
    );
  }

  private publishStatus(status: 'online' | 'offline'): void {
    const payload = { dc_id: this.thingName, status, timestamp: new Date(this.rt.now()).toISOString() };
    this.rt.outbox.sendLive(topics.edgeStatus(this.thingName), JSON.stringify(payload), 1);
  }

  handleCommand(payload: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(payload);
    } catch {
      this.rt.log.warn('invalid command', { error: '(root): not JSON' });
      return;
    }
    const parsed = parse(edgeCommandSchema, raw);
    if (!parsed.ok) {
      this.rt.log.warn('invalid command', { error: parsed.message });
      // a command it cannot read is still answered when it can say which one it was
      const { correlationId, action } = (raw ?? {}) as { correlationId?: unknown; action?: unknown };
      if (
        typeof correlationId === 'string' &&
        typeof action === 'string' &&
        ['charge', 'discharge', 'set_power', 'stop'].includes(action)
      ) {
        this.sendAck({
          correlationId,
          action: action as EdgeAck['action'],
          status: 'rejected',
          reason: parsed.message,
          ts: this.rt.now() / 1000,
        });
      }
      return;
    }
    const command = parsed.value;
    const again = this.acks.get(command.correlationId);
    if (again) return this.sendAck(again); // a QoS 1 redelivery: the same answer, applied once
    const now = this.rt.now();
    const outcome = this.node.apply(command, now);
    const ack: EdgeAck = outcome.ok
      ? {
          correlationId: command.correlationId,
          action: command.action,
          status: 'accepted',
          ts: now / 1000,
          charge_rate_kw: outcome.chargeRateKw,
          soc: Math.round(this.node.soc * 100) / 100,
        }
      : {
          correlationId: command.correlationId,
          action: command.action,
          status: 'rejected',
          reason: outcome.reason,
          ts: now / 1000,
        };
    this.acks.set(command.correlationId, ack);
    this.rt.log.info('command', {
      action: command.action,
      params: command.params,
      status: ack.status,
      charge_rate_kw: this.node.chargeRateKw,
    });
    this.sendAck(ack);
    if (outcome.ok) this.publishTelemetry();
  }

  private sendAck(ack: EdgeAck): void {
    this.rt.outbox.sendDurable(topics.edgeAck(this.thingName), JSON.stringify(ack), 1);
  }
}
