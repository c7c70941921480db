// Gateway mode (DER gateway): one connection for every asset of a site. Dispatch setpoints arrive on the gateway's own
// `ven/cmd/{gatewayThing}`; per-asset telemetry leaves on its own `der/telemetry/{gatewayThing}` (rule `der`).
import type { DerDispatchAck } from '../lambdas/core/contracts/der-schemas.js';
import type { Ack, Command, DispatchCommand } from '../lambdas/core/contracts/schemas.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import { handleCommand, rejection } from './commands.js';
import { PeriodicDevice } from './periodic-device.js';
import { round } from './random.js';
import { RecentAcks, type DeviceRuntime } from './runtime.js';
import { createAssetModel } from './assets/index.js';
import type { AssetModel } from './assets/model.js';
import { BessModel } from './assets/bess.js';
import { planGuardedDispatch } from './guardrails.js';
import { gatewayTelemetry, type SiteSpec } from './site.js';

export interface GatewayOptions {
  readonly runtime: DeviceRuntime;
  readonly thingName: string;
  readonly site: SiteSpec;
  readonly telemetryMs: number;
}

export class GatewayDevice extends PeriodicDevice {
  readonly mode = 'gateway' as const;
  readonly site: SiteSpec;
  readonly assets: AssetModel[];

  get batteries(): BessModel[] {
    return this.assets.filter((m): m is BessModel => m instanceof BessModel);
  }

  private lastStepMs: number;
  private readonly recent = new RecentAcks<Ack>();

  constructor(options: GatewayOptions) {
    super(options.runtime, options.thingName, options.telemetryMs);
    this.site = options.site;
    this.lastStepMs = this.rt.now();
    this.assets = options.site.assets.map((a) => createAssetModel(a, this.lastStepMs));
    this.rt.on(topics.command(this.thingName), (p) => this.handleCommand(p));
  }

  override async start(): Promise<boolean> {
    this.rt.log.info('gateway serving site', {
      site_id: this.site.site_id,
      assets: this.site.assets.map((a) => a.asset_id),
    });
    return super.start();
  }

  protected state(): Record<string, unknown> {
    return {
      site_id: this.site.site_id,
      assets: this.assets.map((m) => ({
        asset_id: m.asset.asset_id,
        asset_type: m.asset.asset_type,
        mw: round(m.mw, 3),
        mw_setpoint: m.setpointMw,
        ...(m instanceof BessModel ? { soc_pct: round(m.socPct, 2) } : {}),
      })),
    };
  }

  tick(): void {
    const now = this.rt.now();
    const dtSec = Math.max(0, (now - this.lastStepMs) / 1000);
    this.lastStepMs = now;
    for (const m of this.assets) m.step(dtSec, now);
    this.publishTelemetry(now);
  }

  handleCommand(payload: string): void {
    const now = this.rt.now();
    const cmd = handleCommand(payload, now, {
      recent: this.recent,
      log: this.rt.log,
      apply: (c, at) => this.apply(c, at),
      sendAck: (ack) => this.sendAck(ack),
    });
    if (cmd?.op === 'dispatch' || cmd?.op === 'restore') this.publishTelemetry(now);
  }

  private apply(cmd: Command, now: number): Ack {
    const ts = Math.floor(now / 1000);
    switch (cmd.op) {
      case 'dispatch':
        return this.dispatch(cmd, ts);
      case 'restore':
        for (const m of this.assets) m.release();
        this.rt.log.info('restored: batteries idle, PV and wind uncurtailed, EV charging unlimited', {
          correlationId: cmd.correlationId,
        });
        return { op: 'restore', status: 'success', ts, correlationId: cmd.correlationId };
      case 'ping':
        return { op: 'ping', status: 'pong', ts, correlationId: cmd.correlationId };
      case 'event':
        return rejection(
          'event',
          cmd,
          cmd.correlationId,
          'demand-response events are for VENs: this device is a site gateway',
          now,
        )!;
    }
  }

  private dispatch(cmd: DispatchCommand, ts: number): Ack {
    const echo = {
      ...(cmd.dispatch_id !== undefined ? { dispatch_id: cmd.dispatch_id } : {}),
      ...(cmd.site_id !== undefined ? { site_id: cmd.site_id } : {}),
      ...(cmd.asset_id !== undefined ? { asset_id: cmd.asset_id } : {}),
    };
    const interval = this.periodMs / 1000;
    const capabilities = new Map(this.assets.map((m) => [m.asset.asset_id, m.capability(interval)]));
    const plan = planGuardedDispatch(this.site, cmd, capabilities);
    if (!plan.ok) {
      this.rt.log.warn('dispatch rejected', {
        correlationId: cmd.correlationId,
        ...echo,
        mw: cmd.mw,
        reason: plan.reason,
      });
      return {
        op: 'dispatch',
        status: 'rejected',
        ...echo,
        requested_mw: cmd.mw,
        split: [],
        reason: plan.reason,
        ts,
        correlationId: cmd.correlationId,
      };
    }
    for (const a of plan.items) this.assets.find((m) => m.asset.asset_id === a.asset_id)!.setSetpoint(a.mw);
    const allocated = round(
      plan.items.reduce((s, a) => s + a.mw, 0),
      3,
    );
    const applied = round(
      plan.items.reduce((s, a) => s + a.applied_mw, 0),
      3,
    );
    this.rt.log.info('dispatch split', {
      correlationId: cmd.correlationId,
      target: plan.target,
      ...(cmd.site_id !== undefined && cmd.asset_id !== undefined ? { ignoredSiteId: cmd.site_id } : {}),
      mw_total: cmd.mw,
      mw_allocated: allocated,
      mw_applied: applied,
      num_assets: plan.items.length,
      allocations: plan.items,
    });
    const ack: DerDispatchAck = {
      op: 'dispatch',
      status: 'accepted',
      ...echo,
      requested_mw: cmd.mw,
      split: plan.items.map(({ weight: _, ...a }) => a),
      ...(Math.abs(applied - cmd.mw) > 0.0005 ? { reason: shortfall(plan.items, cmd.mw, allocated, applied) } : {}),
      ts,
      correlationId: cmd.correlationId,
    };
    return ack;
  }

  private publishTelemetry(now: number): void {
    const doc = gatewayTelemetry(this.thingName, this.site, this.assets, now);
    this.rt.outbox.sendDurable(topics.derTelemetry(this.thingName), JSON.stringify(doc));
  }

  private sendAck(ack: Ack): void {
    this.rt.outbox.sendDurable(topics.ack(this.thingName), JSON.stringify(ack));
  }
}

function shortfall(
  items: readonly { reasons: readonly string[] }[],
  requested: number,
  allocated: number,
  applied: number,
): string {
  const reasons = [...new Set(items.flatMap((i) => i.reasons))].filter((r) => r !== 'ramp' && r !== 'curtailment');
  if (reasons.every((r) => r.startsWith('clamped:')))
    return `clamped to asset limits: ${allocated} of ${requested} MW allocated`;
  return `limited by ${reasons.join(', ')}: ${applied} of ${requested} MW applied`;
}
