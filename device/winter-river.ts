// A Winter River ESP32 node (Winter River): data-centre component telemetry, the operators' `set_fault` command and
// the controller's commands (lambdas/core/power-system/events.ts): `set_energized`, `set_source`, `start_generator`,
// `stop_generator`. No I/O: time comes in as arguments, randomness from an injected generator.
import type { WinterRiverCommand, WinterRiverStatus } from '../lambdas/core/contracts/schemas.js';
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

const SOURCES = ['utility', 'generator', 'ups'] as const;
type Source = (typeof SOURCES)[number];

export class WinterRiverNode {
  fault = false;
  /** Whether the controller says it has power; a node without it draws and passes nothing. */
  energized = true;
  /** What it runs from, as the controller last said (a transfer switch or a UPS); null until told. */
  source: Source | null = null;
  /** The feed a transfer switch draws from, as the controller last said. */
  feed: string | null = null;
  /** A generator: running since the controller asked it to start. */
  running = false;
  private readonly kind: { voltage: number; kw: number };

  constructor(
    readonly nodeId: string,
    private readonly rng: Rng,
    private readonly startedAtMs: number,
  ) {
    this.kind = KINDS[nodeId.split('_')[0] ?? ''] ?? OTHER;
  }

  /** The `winter-river/{id}/status` payload, keys as in Winter River. */
  status(nowMs: number): WinterRiverStatus {
    const voltage = round(jitter(this.rng, this.kind.voltage, 0.01), 1);
    const generating = this.nodeId.startsWith('gen') ? this.running : this.energized;
    const kw = this.fault || !generating ? 0 : round(jitter(this.rng, this.kind.kw || 50, 0.05), 2);
    return {
      node_id: this.nodeId,
      voltage_in: generating ? voltage : 0,
      current: voltage > 0 ? round((kw * 1000) / voltage, 2) : 0,
      power_kw: kw,
      status: this.fault ? 'fault' : 'ok',
      wifi_rssi: Math.round(-55 - this.rng() * 15),
      uptime: Math.max(0, Math.floor((nowMs - this.startedAtMs) / 1000)),
      energized: this.energized,
      ...(this.source !== null && { source: this.source }),
      ...(this.feed !== null && { feed: this.feed }),
      ...(this.nodeId.startsWith('gen') && { running: this.running }),
    };
  }

  apply(cmd: WinterRiverCommand): CommandOutcome {
    const params = cmd.params ?? {};
    switch (cmd.command) {
      case 'set_fault':
      case 'set_energized': {
        const state = params['state'];
        if (typeof state !== 'boolean') return { ok: false, message: 'params.state: must be true or false' };
        const key = cmd.command === 'set_fault' ? 'fault' : 'energized';
        const changed = state !== this[key];
        this[key] = state;
        return { ok: true, changed };
      }
      case 'set_source': {
        const source = params['source'];
        const feed = params['feed'] ?? null;
        if (!SOURCES.includes(source as Source))
          return { ok: false, message: `params.source: must be one of ${SOURCES.join(', ')}` };
        if (feed !== null && typeof feed !== 'string') return { ok: false, message: 'params.feed: must be a node id' };
        const changed = source !== this.source || feed !== this.feed;
        [this.source, this.feed] = [source as Source, feed];
        return { ok: true, changed };
      }
      case 'start_generator':
      case 'stop_generator': {
        const running = cmd.command === 'start_generator';
        const changed = running !== this.running;
        this.running = running;
        return { ok: true, changed };
      }
      default:
        return { ok: false, message: `unknown command ${cmd.command}` };
    }
  }
}
