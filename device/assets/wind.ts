// A wind turbine (or farm): wind speed is a smooth seeded random walk pulled back toward the site's mean
// (Ornstein-Uhlenbeck), turned into power by the turbine's curve: nothing below cut-in, cubic up to rated speed,
// rated power up to cut-out, then a storm shutdown. Its setpoint is a curtailment cap.
import type { DerTelemetry } from '../../lambdas/core/contracts/der-schemas.js';
import { round, type Rng } from '../random.js';
import type { WindSpec } from '../site.js';
import { AssetModel, clamp, type Capability } from './model.js';

/** Seconds for the speed to drift back toward its mean, and its volatility (m/s per √s). */
const REVERSION_SEC = 600;
const VOLATILITY = 0.08;
const SUBSTEP_SEC = 5;
const RATED_RPM = 16;

export function windPowerMw(
  spec: Pick<WindSpec, 'capacity_mw' | 'cut_in_ms' | 'rated_ms' | 'cut_out_ms'>,
  speedMs: number,
): number {
  if (speedMs < spec.cut_in_ms || speedMs >= spec.cut_out_ms) return 0;
  if (speedMs >= spec.rated_ms) return spec.capacity_mw;
  return (spec.capacity_mw * (speedMs ** 3 - spec.cut_in_ms ** 3)) / (spec.rated_ms ** 3 - spec.cut_in_ms ** 3);
}

export class WindModel extends AssetModel<WindSpec> {
  windSpeedMs: number;
  availableMw = 0;

  constructor(
    asset: WindSpec,
    private readonly rng: Rng,
  ) {
    super(asset);
    this.windSpeedMs = asset.mean_wind_ms;
    this.advance(0);
  }

  releasedMw(): number {
    return this.asset.max_mw;
  }

  capability(): Capability {
    return this.curtailable(this.availableMw);
  }

  protected advance(dtSec: number): void {
    for (let left = dtSec; left > 0; left -= SUBSTEP_SEC) {
      const dt = Math.min(SUBSTEP_SEC, left);
      const shock = (this.rng() * 2 - 1) * Math.sqrt(3); // unit variance
      this.windSpeedMs = clamp(
        this.windSpeedMs +
          ((this.asset.mean_wind_ms - this.windSpeedMs) * dt) / REVERSION_SEC +
          VOLATILITY * Math.sqrt(dt) * shock,
        0,
        40,
      );
    }
    this.availableMw = this.online ? windPowerMw(this.asset, this.windSpeedMs) : 0;
    this.mw = Math.max(0, Math.min(this.appliedMw, this.asset.max_mw, this.availableMw));
  }

  private state(): string {
    const a = this.asset;
    if (!this.online) return 'off';
    if (this.windSpeedMs >= a.cut_out_ms) return 'storm_shutdown';
    if (this.windSpeedMs < a.cut_in_ms) return 'idle';
    if (this.mw < this.availableMw - 1e-6) return 'curtailed';
    return this.windSpeedMs >= a.rated_ms ? 'rated' : 'generating';
  }

  telemetry(nowMs?: number): DerTelemetry {
    const a = this.asset;
    const spinning = this.online && this.windSpeedMs >= a.cut_in_ms && this.windSpeedMs < a.cut_out_ms;
    return {
      ...this.core(nowMs, 'ok'),
      asset_type: 'wind',
      wind_speed_ms: round(this.windSpeedMs, 2),
      turbine_rpm: spinning ? round(Math.min(RATED_RPM, (RATED_RPM * this.windSpeedMs) / a.rated_ms), 1) : 0,
      availability_pct: this.online ? 100 : 0,
      turbine_state: this.state(),
    };
  }
}
