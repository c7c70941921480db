// A Winter River ESP32 node (seed 003): data-centre component telemetry and the `set_fault` command.
// No I/O: time comes in as arguments, randomness from an injected generator.
import type { WinterRiverCommand, WinterRiverStatus } from '../lambdas/core/schemas.js';
import { jitter, round, type Rng } from './random.js';

/** Nominal input voltage and load by node kind, the id's prefix (`pdu_a` is a PDU). */
const KINDS: Record<string, { voltage: number; kw: number }> = {
  util: { voltage: 4160, kw: 60 },
  trf: { voltage: 4160, kw: 55 },
  sw: { voltage: 480, kw: 50 },
  gen: { voltage: 480, kw: 0 },
  dist: { voltage: 480, kw: 40 },
  ups: { voltage: 480, kw: 20 },
  pdu: { voltage: 480, kw: 6 },
  srv: { voltage: 208, kw: 0.8 },
};
const OTHER = { voltage: 480, kw: 5 };

export type CommandOutcome = { ok: true; changed: boolean } | { ok: false; message: string };

export class WinterRiverNode {
  fault = false;
  private readonly kind: { voltage: number; kw: number };

  constructor(
    readonly nodeId: string,
    private readonly rng: Rng,
    private readonly startedAtMs: number,
  ) {
    this.kind = KINDS[nodeId.split('_')[0] ?? ''] ?? OTHER;
  }

  /** The `winter-river/{id}/status` payload, keys as in seed 003. */
  status(nowMs: number): WinterRiverStatus {
    const voltage = round(jitter(this.rng, this.kind.voltage, 0.01), 1);
    const kw = this.fault ? 0 : round(jitter(this.rng, this.kind.kw, 0.05), 2);
    return {
      node_id: this.nodeId,
      voltage_in: voltage,
      current: round((kw * 1000) / voltage, 2),
      power_kw: kw,
      status: this.fault ? 'fault' : 'ok',
      wifi_rssi: Math.round(-55 - this.rng() * 15),
      uptime: Math.max(0, Math.floor((nowMs - this.startedAtMs) / 1000)),
    };
  }

  apply(cmd: WinterRiverCommand): CommandOutcome {
    if (cmd.command !== 'set_fault') return { ok: false, message: `unknown command ${cmd.command}` };
    const state = cmd.params?.['state'];
    if (typeof state !== 'boolean') return { ok: false, message: 'params.state: must be true or false' };
    const changed = state !== this.fault;
    this.fault = state;
    return { ok: true, changed };
  }
}
