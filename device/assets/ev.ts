// An EV charging station: cars arrive at free ports at random (seeded), each wanting some energy and staying a
// while; each session draws up to its port's limit, the station as a whole up to its charge limit (-min_mw) and
// its applied setpoint (a charge limit between min_mw and 0). Charging is import: mw is negative.
import type { DerTelemetry } from '../../lambdas/core/contracts/der-schemas.js';
import { round, type Rng } from '../random.js';
import type { EvSpec } from '../site.js';
import { AssetModel, type Capability } from './model.js';

/** Arrivals per free port per hour, energy wanted (kWh) and dwell time (h): a busy public site. */
const ARRIVALS_PER_PORT_H = 0.4;
const NEED_KWH: readonly [number, number] = [10, 60];
const DWELL_H: readonly [number, number] = [0.5, 4];
const SUBSTEP_SEC = 60;

export interface EvSession {
  readonly port: number;
  readonly needMwh: number;
  readonly departsMs: number;
  deliveredMwh: number;
  /** What it draws now (MW, positive). */
  drawMw: number;
}

export class EvModel extends AssetModel<EvSpec> {
  sessions: EvSession[] = [];
  energyDeliveredMwh = 0;
  private clockMs: number | undefined;

  constructor(
    asset: EvSpec,
    private readonly rng: Rng,
    nowMs?: number,
  ) {
    super(asset);
    this.clockMs = nowMs;
  }

  releasedMw(): number {
    return this.asset.min_mw;
  }

  private get portMaxMw(): number {
    return this.asset.port_max_kw / 1000;
  }

  /** What the sessions would draw at their ports' limits (MW, positive); the station limit is the setpoint's floor. */
  get demandMw(): number {
    return this.sessions.reduce((s, x) => s + (x.deliveredMwh < x.needMwh ? this.portMaxMw : 0), 0);
  }

  capability(): Capability {
    const a = this.asset;
    if (!this.online) return this.offline(this.appliedMw);
    const demand = this.demandMw;
    return {
      lo: Math.max(a.min_mw, -demand),
      hi: 0,
      loReason: demand < -a.min_mw ? 'unavailable' : 'clamped:min_mw',
      hiReason: 'clamped:max_mw',
      available_mw: -demand,
      applied_mw: this.appliedMw,
    };
  }

  protected advance(dtSec: number, nowMs: number | undefined): void {
    const end = nowMs ?? (this.clockMs ?? 0) + dtSec * 1000;
    let t = this.clockMs ?? end - dtSec * 1000;
    while (t < end) {
      const dt = Math.min(SUBSTEP_SEC * 1000, end - t);
      t += dt;
      this.substep(dt / 3_600_000, t);
    }
    this.clockMs = end;
    if (dtSec === 0) this.share();
  }

  private substep(hours: number, nowMs: number): void {
    this.sessions = this.sessions.filter((s) => s.departsMs > nowMs);
    const busy = new Set(this.sessions.map((s) => s.port));
    for (let port = 0; port < this.asset.ports; port++) {
      if (busy.has(port) || !this.online) continue;
      if (this.rng() < 1 - Math.exp(-ARRIVALS_PER_PORT_H * hours)) {
        const need = (NEED_KWH[0] + this.rng() * (NEED_KWH[1] - NEED_KWH[0])) / 1000;
        const dwell = DWELL_H[0] + this.rng() * (DWELL_H[1] - DWELL_H[0]);
        this.sessions.push({ port, needMwh: need, departsMs: nowMs + dwell * 3_600_000, deliveredMwh: 0, drawMw: 0 });
      }
    }
    this.share();
    for (const s of this.sessions) {
      const energy = Math.min(s.drawMw * hours, s.needMwh - s.deliveredMwh);
      s.deliveredMwh += energy;
      this.energyDeliveredMwh += energy;
    }
  }

  /** Each session's draw: its port's limit, scaled down together to the station and applied limits. */
  private share(): void {
    const wanted = this.demandMw;
    const allowed = this.online ? Math.min(wanted, -this.appliedMw) : 0;
    const scale = wanted > 0 ? Math.max(0, allowed) / wanted : 0;
    for (const s of this.sessions) s.drawMw = s.deliveredMwh < s.needMwh ? this.portMaxMw * scale : 0;
    this.mw = -this.sessions.reduce((sum, s) => sum + s.drawMw, 0);
  }

  telemetry(nowMs?: number): DerTelemetry {
    return {
      ...this.core(nowMs, 'ok'),
      asset_type: 'ev',
      station_state: !this.online ? 'fault' : this.sessions.length > 0 ? 'charging' : 'available',
      active_sessions: this.sessions.length,
      energy_delivered_mwh: round(this.energyDeliveredMwh, 4),
    };
  }
}
