// A PV plant: a clear-sky bell between 06:00 and 18:00 solar time, dimmed by slowly drifting haze (seeded, so
// reproducible), less a temperature derating. Its setpoint is a curtailment cap: it produces min(cap, what the sun gives).
import type { DerTelemetry } from '../../lambdas/core/contracts/der-schemas.js';
import { round, type Rng } from '../random.js';
import type { PvSpec } from '../site.js';
import { AssetModel, clamp, type Capability } from './model.js';

const SUNRISE_H = 6;
const SUNSET_H = 18;
const PEAK_WM2 = 1000;
const AMBIENT_C = 20;
/** Module temperature rise per W/m² and power loss per °C above 25 °C (typical crystalline silicon). */
const HEATING_C_PER_WM2 = 0.025;
const DERATE_PER_C = 0.004;

/** Clear-sky irradiance (W/m²) at an hour of solar time: 0 at night, a sine bell peaking at noon. */
export function clearSkyIrradiance(solarHour: number): number {
  const h = ((solarHour % 24) + 24) % 24;
  if (h <= SUNRISE_H || h >= SUNSET_H) return 0;
  return PEAK_WM2 * Math.sin((Math.PI * (h - SUNRISE_H)) / (SUNSET_H - SUNRISE_H));
}

export const moduleTempC = (irradiance: number) => AMBIENT_C + HEATING_C_PER_WM2 * irradiance;

/** What a plant of `capacityMw` nameplate gives at `irradiance` W/m². */
export function pvPowerMw(capacityMw: number, irradiance: number): number {
  const derate = 1 - DERATE_PER_C * Math.max(0, moduleTempC(irradiance) - 25);
  return clamp((capacityMw * irradiance * derate) / PEAK_WM2, 0, capacityMw);
}

export class PvModel extends AssetModel<PvSpec> {
  irradiance = 0;
  /** What the plant could produce now, before any cap. */
  availableMw = 0;
  /** 0.85-1: haze drifting tick by tick. */
  private clearness = 1;

  constructor(
    asset: PvSpec,
    private readonly rng: Rng,
    nowMs?: number,
  ) {
    super(asset);
    if (nowMs !== undefined) this.step(0, nowMs);
  }

  releasedMw(): number {
    return this.asset.max_mw;
  }

  capability(): Capability {
    return this.curtailable(this.availableMw);
  }

  protected advance(_dtSec: number, nowMs: number | undefined): void {
    if (nowMs === undefined) return;
    this.clearness = clamp(this.clearness + (this.rng() - 0.5) * 0.02, 0.85, 1);
    const solarHour = nowMs / 3_600_000 + this.asset.utc_offset_h;
    this.irradiance = clearSkyIrradiance(solarHour) * this.clearness;
    this.availableMw = this.online ? pvPowerMw(this.asset.capacity_mw, this.irradiance) : 0;
    this.mw = Math.max(0, Math.min(this.appliedMw, this.asset.max_mw, this.availableMw));
  }

  private curtailmentReason(): string | null {
    if (!this.online || this.mw >= this.availableMw - 1e-6) return null;
    return this.appliedMw < this.asset.max_mw ? 'dispatch' : 'export_limit';
  }

  telemetry(nowMs?: number): DerTelemetry {
    const reason = this.curtailmentReason();
    const state = !this.online ? 'off' : this.availableMw <= 0 ? 'standby' : reason ? 'curtailed' : 'mppt';
    return {
      ...this.core(nowMs, 'ok'),
      asset_type: 'pv',
      irradiance_wm2: round(this.irradiance, 1),
      module_temp_c: round(moduleTempC(this.irradiance), 1),
      inverter_state: state,
      curtailment_reason: reason,
    };
  }
}
