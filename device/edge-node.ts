// A data-centre edge node's model: the host's real CPU, RAM and disk use (node:os, statfs) and its own battery if it
// has one (Linux power_supply), beside a simulated site battery that follows charge, discharge, set_power and stop.
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import type { EdgeCommand, EdgeTelemetry } from '../lambdas/core/contracts/edge-schemas.js';

/** The payload as published: the wire fields (edgeTelemetrySchema) and the battery's power, `charge_rate_kw`. */
export type EdgeTelemetryPayload = Pick<
  EdgeTelemetry,
  'dc_id' | 'power_kw' | 'soc' | 'freq' | 'cpu' | 'ram' | 'disk' | 'meta' | 'battery'
> & {
  readonly timestamp: string;
  readonly charge_rate_kw: number;
};
import type { Rng } from './random.js';

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** CPU use since the previous call (all cores), 0–100. */
export class CpuMeter {
  private last = CpuMeter.times();

  private static times() {
    let idle = 0;
    let total = 0;
    for (const c of cpus()) {
      const t = c.times;
      idle += t.idle;
      total += t.user + t.nice + t.sys + t.idle + t.irq;
    }
    return { idle, total };
  }

  percent(): number {
    const now = CpuMeter.times();
    const total = now.total - this.last.total;
    const idle = now.idle - this.last.idle;
    this.last = now;
    return total > 0 ? round(clamp((1 - idle / total) * 100, 0, 100)) : 0;
  }
}

export const ramPercent = () => round(clamp((1 - freemem() / totalmem()) * 100, 0, 100));

/** Use of the file system holding `path`, as `df` counts it (blocks not available to users are used). */
export function diskPercent(path = '/'): number {
  try {
    const s = statfsSync(path);
    return s.blocks > 0 ? round(clamp(((s.blocks - s.bavail) / s.blocks) * 100, 0, 100)) : 0;
  } catch {
    return 0;
  }
}

/** The host's own battery (a laptop's), as the kernel reports it; null on a machine without one. */
export function hostBattery(root = '/sys/class/power_supply'): EdgeTelemetry['battery'] {
  try {
    for (const name of readdirSync(root)) {
      const dir = join(root, name);
      if (readFileSync(join(dir, 'type'), 'utf8').trim() !== 'Battery') continue;
      const percent = Number(readFileSync(join(dir, 'capacity'), 'utf8').trim());
      if (!Number.isFinite(percent)) continue;
      const status = readFileSync(join(dir, 'status'), 'utf8').trim();
      return { percent: clamp(percent, 0, 100), plugged: status !== 'Discharging', secsleft: null };
    }
  } catch {
    // no power_supply class (not Linux, a container): no battery
  }
  return null;
}

export type CommandOutcome = { ok: true; chargeRateKw: number } | { ok: false; reason: string };

export class EdgeNodeModel {
  /** The site's rated draw, and its battery's energy and the power it may charge or discharge at. */
  readonly capacityKw: number;
  readonly batteryKwh: number;
  readonly maxBatteryKw: number;
  /** %, 0–100. */
  soc: number;
  /** + charging, − discharging. */
  chargeRateKw = 0;
  private freq: number;
  private lastStep: number;
  private readonly startedAt: number;
  private readonly cpu = new CpuMeter();

  constructor(
    readonly dcId: string,
    private readonly rng: Rng,
    now: number,
  ) {
    this.capacityKw = round(100 + rng() * 100, 1);
    this.batteryKwh = round(150 + rng() * 100, 1);
    this.maxBatteryKw = round(this.batteryKwh * 0.5, 1);
    this.soc = round(50 + rng() * 30);
    this.freq = 50 + (rng() - 0.5) * 0.1;
    this.lastStep = now;
    this.startedAt = now;
  }

  /** The battery's energy moved since the last step, then stopped at full or empty. */
  private step(now: number): void {
    const hours = Math.max(0, now - this.lastStep) / 3_600_000;
    this.lastStep = now;
    this.soc = clamp(this.soc + ((this.chargeRateKw * hours) / this.batteryKwh) * 100, 0, 100);
    if ((this.soc >= 100 && this.chargeRateKw > 0) || (this.soc <= 0 && this.chargeRateKw < 0)) this.chargeRateKw = 0;
  }

  apply(command: Pick<EdgeCommand, 'action' | 'params'>, now: number): CommandOutcome {
    this.step(now);
    const kw = 'kw' in command.params ? command.params.kw : 0;
    const limit = (v: number) => clamp(v, -this.maxBatteryKw, this.maxBatteryKw);
    switch (command.action) {
      case 'charge':
        if (this.soc >= 100) return { ok: false, reason: 'battery full' };
        this.chargeRateKw = limit(kw);
        break;
      case 'discharge':
        if (this.soc <= 0) return { ok: false, reason: 'battery empty' };
        this.chargeRateKw = limit(-kw);
        break;
      case 'set_power':
        this.chargeRateKw = limit(kw);
        break;
      case 'stop':
        this.chargeRateKw = 0;
        break;
    }
    return { ok: true, chargeRateKw: round(this.chargeRateKw) };
  }

  telemetry(now: number): EdgeTelemetryPayload {
    this.step(now);
    this.freq = clamp(this.freq + (this.rng() - 0.5) * 0.04, 49.7, 50.3);
    const cpu = this.cpu.percent();
    const itLoadKw = this.capacityKw * (0.4 + 0.5 * (cpu / 100));
    return {
      dc_id: this.dcId,
      timestamp: new Date(now).toISOString(),
      // the grid draw: the IT load, plus the battery when it charges, less when it discharges
      power_kw: round(itLoadKw + this.chargeRateKw),
      soc: round(this.soc),
      freq: round(this.freq, 3),
      cpu,
      ram: ramPercent(),
      disk: diskPercent(),
      battery: hostBattery(),
      charge_rate_kw: round(this.chargeRateKw),
      meta: {
        capacity_kw: this.capacityKw,
        battery_kwh: this.batteryKwh,
        sim: true,
        uptime: Math.round((now - this.startedAt) / 1000),
      },
    };
  }
}
