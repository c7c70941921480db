// What every simulated asset has: a target setpoint (clamped to its rating), an applied setpoint that moves toward
// it at the ramp rate, what it actually does under its physics, and what it could be given now.
import type { DerTelemetry, DispatchReason } from '../../lambdas/core/contracts/der-schemas.js';
import { round } from '../random.js';
import type { AssetSpec } from '../site.js';

export const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** What an asset can be given now, [lo, hi] MW with 0 inside, and what sets each end. */
export interface Capability {
  readonly lo: number;
  readonly hi: number;
  readonly loReason: DispatchReason;
  readonly hiReason: DispatchReason;
  /** PV and wind: what they could produce now; EV: what its sessions would draw now (negative). */
  readonly available_mw?: number;
  /** The setpoint applied now, on its way to the target. */
  readonly applied_mw: number;
}

/** `current` moved toward `target` by at most the ramp rate over `dtSec` (no rate: at once). */
export function rampToward(current: number, target: number, mwPerMin: number | undefined, dtSec: number): number {
  if (mwPerMin === undefined) return target;
  const step = (mwPerMin * dtSec) / 60;
  return current + clamp(target - current, -step, step);
}

export abstract class AssetModel<S extends AssetSpec = AssetSpec> {
  /** The target, within [min_mw, max_mw]. */
  setpointMw: number;
  /** Where the setpoint is now, moving toward the target at the ramp rate. */
  appliedMw: number;
  /** What the asset does. */
  mw = 0;
  online = true;

  constructor(readonly asset: S) {
    this.setpointMw = this.releasedMw();
    this.appliedMw = this.setpointMw;
  }

  /** The setpoint with no dispatch in force: batteries idle, PV and wind uncurtailed, EV charging unlimited. */
  abstract releasedMw(): number;
  abstract capability(intervalSec: number): Capability;
  abstract telemetry(nowMs?: number): DerTelemetry;
  /** Advances the physics by dtSec once the applied setpoint has moved. */
  protected abstract advance(dtSec: number, nowMs: number | undefined): void;

  setSetpoint(value: number): number {
    this.setpointMw = round(clamp(value, this.asset.min_mw, this.asset.max_mw), 3);
    return this.setpointMw;
  }

  release(): void {
    this.setSetpoint(this.releasedMw());
  }

  step(dtSec: number, nowMs?: number): void {
    this.appliedMw = rampToward(this.appliedMw, this.setpointMw, this.asset.ramp_rate_mw_per_min, dtSec);
    this.advance(dtSec, nowMs);
  }

  /** PV and wind: a cap from 0 up to what they could produce now. */
  protected curtailable(availableMw: number): Capability {
    const a = this.asset;
    if (!this.online) return this.offline(this.appliedMw);
    return {
      lo: 0,
      hi: Math.min(a.max_mw, availableMw),
      loReason: 'clamped:min_mw',
      hiReason: availableMw < a.max_mw ? 'unavailable' : 'clamped:max_mw',
      available_mw: availableMw,
      applied_mw: this.appliedMw,
    };
  }

  protected offline(applied: number): Capability {
    return { lo: 0, hi: 0, loReason: 'unavailable', hiReason: 'unavailable', applied_mw: applied };
  }

  protected core(nowMs: number | undefined, status: string) {
    const a = this.asset;
    return {
      asset_id: a.asset_id,
      ...(a.asset_name !== undefined ? { asset_name: a.asset_name } : {}),
      site_id: a.site_id,
      ...(nowMs !== undefined ? { timestamp: Math.floor(nowMs / 1000) } : {}),
      mw: round(this.mw, 3),
      mw_setpoint: this.setpointMw,
      ...(a.capacity_mw !== undefined ? { capacity_mw: a.capacity_mw } : {}),
      min_mw: a.min_mw,
      max_mw: a.max_mw,
      online: this.online,
      status: this.online ? status : 'offline',
      fault_code: this.online ? null : 'offline',
    };
  }
}
