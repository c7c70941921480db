// A battery: follows its applied setpoint while its state of charge allows. Positive MW discharges (export),
// negative charges; charging stores `efficiency` of what it draws.
import type { DerTelemetry } from '../../lambdas/core/contracts/der-schemas.js';
import { round } from '../random.js';
import type { AssetSpec, BessSpec } from '../site.js';
import { AssetModel, clamp, type Capability } from './model.js';

const AMBIENT_C = 25;

export class BessModel extends AssetModel<BessSpec> {
  socMwh: number;
  /** The last step could not follow the setpoint because the battery was empty or full. */
  limitedBySoc = false;

  constructor(asset: AssetSpec) {
    if (asset.asset_type !== 'bess') throw new Error(`${asset.asset_id} is a ${asset.asset_type}, not a bess`);
    super(asset);
    this.socMwh = (asset.energy_mwh * asset.initial_soc_pct) / 100;
  }

  releasedMw(): number {
    return 0;
  }

  get socPct(): number {
    return (this.socMwh / this.asset.energy_mwh) * 100;
  }

  private get floorMwh(): number {
    return (this.asset.energy_mwh * this.asset.min_soc_pct) / 100;
  }

  private get ceilingMwh(): number {
    return (this.asset.energy_mwh * this.asset.max_soc_pct) / 100;
  }

  /** The most it can discharge (charge, negative) for `hours` and stay within its SOC window. */
  private energyLimits(hours: number): { discharge: number; charge: number } {
    return {
      discharge: Math.max(0, (this.socMwh - this.floorMwh) / hours),
      charge: -Math.max(0, (this.ceilingMwh - this.socMwh) / (hours * this.asset.efficiency)),
    };
  }

  capability(intervalSec: number): Capability {
    const a = this.asset;
    if (!this.online) return this.offline(this.appliedMw);
    const e = this.energyLimits(intervalSec / 3600);
    return {
      lo: Math.min(0, Math.max(a.min_mw, e.charge)),
      hi: Math.max(0, Math.min(a.max_mw, e.discharge)),
      loReason: e.charge > a.min_mw ? 'soc_ceiling' : 'clamped:min_mw',
      hiReason: e.discharge < a.max_mw ? 'soc_floor' : 'clamped:max_mw',
      applied_mw: this.appliedMw,
    };
  }

  protected advance(dtSec: number): void {
    if (dtSec <= 0) return;
    const a = this.asset;
    const hours = dtSec / 3600;
    const e = this.energyLimits(hours);
    const wanted = this.online ? this.appliedMw : 0;
    const next = clamp(wanted, e.charge, e.discharge);
    this.limitedBySoc = Math.abs(wanted - next) > 1e-9;
    this.mw = next;
    this.socMwh = clamp(this.socMwh - (next > 0 ? next * hours : next * hours * a.efficiency), 0, a.energy_mwh);
  }

  telemetry(nowMs?: number): DerTelemetry {
    const a = this.asset;
    const rating = Math.max(Math.abs(a.min_mw), Math.abs(a.max_mw), 1e-9);
    return {
      ...this.core(nowMs, this.limitedBySoc ? (this.setpointMw > 0 ? 'soc_low' : 'soc_high') : 'ok'),
      asset_type: 'bess',
      soc_pct: round(this.socPct, 2),
      soh_pct: a.soh_pct ?? 100,
      soc_mwh: round(this.socMwh, 3),
      energy_mwh: a.energy_mwh,
      inverter_temp_c: round(AMBIENT_C + (15 * Math.abs(this.mw)) / rating, 1),
      ambient_temp_c: AMBIENT_C,
    };
  }
}
