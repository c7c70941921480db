// A VEN's electrical panel: circuits with simulated demand, demand-response shedding and restore.
// No I/O and no clock of its own: time comes in as arguments, randomness from an injected generator.
import * as z from 'zod';
import type {
  Ack,
  EventAck,
  EventCommand,
  LoadsSnapshot,
  Metering,
  ShadowReported,
} from '../lambdas/core/contracts/schemas.js';
import { MET_TOLERANCE, planShed } from '../lambdas/core/contracts/shed-plan.js';
import { round, type Rng } from './random.js';

export type RestoreAck = Extract<Ack, { op: 'restore' }>;

export const circuitSpecSchema = z.object({
  id: z.string().min(1).max(128),
  name: z.string().min(1).max(256),
  type: z.string().min(1).max(64),
  breakerAmps: z.number().positive(),
  capacityKw: z.number().positive(),
  /** Lower is more important: the highest number is shed first. */
  priority: z.number().int().min(0).max(100),
  critical: z.boolean().default(false),
  enabled: z.boolean().default(true),
  /** Typical draw as a fraction of capacity. */
  duty: z.number().min(0).max(1).default(0.5),
});

export const panelSpecSchema = z.object({
  amperage: z.number().positive(),
  voltage: z.number().positive(),
  maxKw: z.number().positive().optional(),
  batteryKwh: z.number().positive().optional(),
  circuits: z
    .array(circuitSpecSchema)
    .min(1)
    .max(256)
    .refine((cs) => new Set(cs.map((c) => c.id)).size === cs.length, 'circuit ids must be unique'),
});

export type CircuitSpec = z.infer<typeof circuitSpecSchema>;
export type PanelSpec = z.infer<typeof panelSpecSchema>;

export const defaultPanel: PanelSpec = panelSpecSchema.parse({
  amperage: 200,
  voltage: 240,
  batteryKwh: 13.5,
  circuits: [
    { id: 'circuit_1', name: 'Main HVAC', type: 'hvac', breakerAmps: 30, capacityKw: 5.0, priority: 2, duty: 0.5 },
    {
      id: 'circuit_2',
      name: 'Refrigerator',
      type: 'fridge',
      breakerAmps: 15,
      capacityKw: 0.8,
      priority: 1,
      critical: true,
      duty: 0.4,
    },
    { id: 'circuit_3', name: 'Pool Pump', type: 'pool_pump', breakerAmps: 20, capacityKw: 1.5, priority: 4, duty: 0.8 },
    { id: 'circuit_4', name: 'EV Charger', type: 'ev', breakerAmps: 40, capacityKw: 7.2, priority: 5, duty: 0.9 },
    {
      id: 'circuit_5',
      name: 'Water Heater',
      type: 'water_heater',
      breakerAmps: 30,
      capacityKw: 4.5,
      priority: 4,
      duty: 0.5,
    },
    { id: 'circuit_6', name: 'Lighting', type: 'lighting', breakerAmps: 15, capacityKw: 1.2, priority: 3, duty: 0.4 },
    {
      id: 'circuit_7',
      name: 'Kitchen Outlets',
      type: 'outlets',
      breakerAmps: 20,
      capacityKw: 1.8,
      priority: 3,
      duty: 0.3,
    },
    {
      id: 'circuit_8',
      name: 'Well Pump',
      type: 'well_pump',
      breakerAmps: 20,
      capacityKw: 1.1,
      priority: 0,
      critical: true,
      duty: 0.3,
    },
  ],
});

export interface CircuitState {
  readonly spec: CircuitSpec;
  /** Operator's choice (shadow desired); a disabled circuit draws nothing. */
  enabled: boolean;
  /** Turned off by the active demand-response event. */
  shed: boolean;
  /** What the circuit draws when on. */
  demandKw: number;
}

export interface ActiveEvent {
  readonly eventId: string;
  readonly correlationId: string;
  readonly requestedKw: number;
  readonly endsAtMs: number;
  readonly ack: EventAck;
}

export interface DesiredCircuitResult {
  readonly applied: string[];
  readonly unknown: string[];
  readonly refusedCritical: string[];
}

export class PanelModel {
  readonly circuits: CircuitState[];
  event: ActiveEvent | null = null;
  batterySocPct: number | undefined;

  constructor(
    readonly spec: PanelSpec,
    private readonly rng: Rng,
  ) {
    this.circuits = spec.circuits.map((c) => ({ spec: c, enabled: c.enabled, shed: false, demandKw: 0 }));
    this.batterySocPct = spec.batteryKwh ? round(60 + rng() * 35, 1) : undefined;
    for (const c of this.circuits) c.demandKw = this.sampleDemand(c, c.spec.capacityKw * c.spec.duty);
  }

  get maxKw(): number {
    return this.spec.maxKw ?? (this.spec.amperage * this.spec.voltage) / 1000;
  }

  /** One simulation step: each circuit's demand drifts around its duty. */
  step(): void {
    for (const c of this.circuits) c.demandKw = this.sampleDemand(c, c.demandKw);
    if (this.batterySocPct !== undefined) {
      this.batterySocPct = round(Math.min(100, Math.max(20, this.batterySocPct + (this.rng() - 0.5) * 0.4)), 1);
    }
  }

  powerOf(c: CircuitState): number {
    return c.enabled && !c.shed ? c.demandKw : 0;
  }

  usedKw(): number {
    return this.circuits.reduce((sum, c) => sum + this.powerOf(c), 0);
  }

  /** Demand the event is holding off: what the shed circuits would draw now. */
  shedKw(): number {
    return this.circuits.reduce((sum, c) => sum + (c.enabled && c.shed ? c.demandKw : 0), 0);
  }

  /**
   * Starts a demand-response event (replacing an active one), or rejects it when nothing can be shed, in which case
   * an active event carries on untouched.
   */
  startEvent(cmd: EventCommand, nowMs: number): EventAck {
    const candidates = this.circuits
      .filter((c) => c.enabled)
      .map((c) => ({
        id: c.spec.id,
        name: c.spec.name,
        priority: c.spec.priority,
        critical: c.spec.critical,
        powerKw: c.demandKw,
      }));
    const plan = planShed(candidates, cmd.shed_kw);
    const base = {
      op: 'event' as const,
      event_id: cmd.event_id,
      requested_shed_kw: cmd.shed_kw,
      ts: Math.floor(nowMs / 1000),
      correlationId: cmd.correlationId,
    };
    if (plan.circuits.length === 0) {
      return {
        ...base,
        status: 'rejected',
        actual_shed_kw: 0,
        circuits_curtailed: [],
        reason: 'no non-critical load is drawing power',
      };
    }
    const shedIds = new Set(plan.circuits.map((c) => c.loadId));
    for (const c of this.circuits) c.shed = shedIds.has(c.spec.id);
    const ack: EventAck = {
      ...base,
      status: 'accepted',
      actual_shed_kw: plan.totalKw,
      circuits_curtailed: plan.circuits,
      ...(plan.totalKw < cmd.shed_kw ? { reason: shortReason(plan) } : {}),
    };
    this.event = {
      eventId: cmd.event_id,
      correlationId: cmd.correlationId,
      requestedKw: cmd.shed_kw,
      endsAtMs: nowMs + cmd.duration_sec * 1000,
      ack,
    };
    return ack;
  }

  /** Turns shed circuits back on; idempotent. */
  restore(correlationId: string, nowMs: number): RestoreAck {
    const ended = this.event;
    for (const c of this.circuits) c.shed = false;
    this.event = null;
    return {
      op: 'restore',
      status: 'success',
      ...(ended ? { event_id: ended.eventId } : {}),
      ts: Math.floor(nowMs / 1000),
      correlationId,
    };
  }

  /** Applies the operator's circuit switches; a critical circuit is never switched off remotely. */
  setCircuitsEnabled(desired: Record<string, boolean>): DesiredCircuitResult {
    const result: DesiredCircuitResult = { applied: [], unknown: [], refusedCritical: [] };
    for (const [id, enabled] of Object.entries(desired)) {
      const c = this.circuits.find((x) => x.spec.id === id);
      if (!c) result.unknown.push(id);
      else if (!enabled && c.spec.critical) result.refusedCritical.push(id);
      else {
        c.enabled = enabled;
        result.applied.push(id);
      }
    }
    return result;
  }

  circuitEnabled(): Record<string, boolean> {
    return Object.fromEntries(this.circuits.map((c) => [c.spec.id, c.enabled]));
  }

  /** The `volttron/metering` (and `ven/telemetry/{venId}`) payload, field names as in the VOLTTRON VEN. */
  metering(venId: string, nowMs: number): Metering {
    const used = this.usedKw();
    const shed = this.shedKw();
    const event = this.event;
    return {
      venId,
      timestamp: Math.floor(nowMs / 1000),
      usedPowerKw: round(used),
      shedPowerKw: round(shed),
      ...(event
        ? { requestedReductionKw: event.requestedKw, eventId: event.eventId, baselinePowerKw: round(used + shed) }
        : {}),
      ...(this.batterySocPct !== undefined ? { batterySOC: this.batterySocPct } : {}),
      panelAmperageRating: this.spec.amperage,
      panelVoltage: this.spec.voltage,
      panelMaxKw: round(this.maxKw),
      currentAmps: round((used * 1000) / this.spec.voltage),
      panelUtilizationPercent: round((used / this.maxKw) * 100, 1),
      circuits: this.circuits.map((c) => ({
        id: c.spec.id,
        name: c.spec.name,
        breakerAmps: c.spec.breakerAmps,
        currentKw: round(this.powerOf(c)),
        currentAmps: round((this.powerOf(c) * 1000) / this.spec.voltage),
        enabled: c.enabled && !c.shed,
        critical: c.spec.critical,
      })),
      loads: this.loads(),
    };
  }

  loadsSnapshot(venId: string, nowMs: number): LoadsSnapshot {
    return { schemaVersion: '1.0', venId, timestamp: Math.floor(nowMs / 1000), loads: this.loads() };
  }

  /** `state.reported` as in the VOLTTRON VEN, plus the keys the operator may set in `desired`. */
  shadowReported(nowMs: number, reportingIntervalSec: number): ShadowReported & ReportedExtras {
    const event = this.event;
    return {
      state: {
        reported: {
          power_kw: round(this.usedKw()),
          shed_kw: round(this.shedKw()),
          panel_amperage: this.spec.amperage,
          panel_voltage: this.spec.voltage,
          panel_max_kw: round(this.maxKw),
          circuits: this.circuits.map((c) => ({
            id: c.spec.id,
            name: c.spec.name,
            enabled: c.enabled && !c.shed,
            available: !c.spec.critical && c.enabled && !c.shed,
            current_kw: round(this.powerOf(c)),
            breaker_amps: c.spec.breakerAmps,
            current_amps: round((this.powerOf(c) * 1000) / this.spec.voltage),
            critical: c.spec.critical,
          })),
          active_event: event
            ? { event_id: event.eventId, shed_kw: event.requestedKw, end_ts: Math.floor(event.endsAtMs / 1000) }
            : null,
          timestamp: Math.floor(nowMs / 1000),
          reporting_interval_sec: reportingIntervalSec,
          circuit_enabled: this.circuitEnabled(),
        },
      },
    };
  }

  private loads(): Metering['loads'] {
    return this.circuits.map((c) => ({
      loadId: c.spec.id,
      name: c.spec.name,
      type: c.spec.type,
      capacityKw: c.spec.capacityKw,
      currentPowerKw: round(this.powerOf(c)),
      shedCapabilityKw: !c.spec.critical && c.enabled && !c.shed ? c.spec.capacityKw : 0,
      enabled: c.enabled && !c.shed,
      priority: c.spec.priority,
    }));
  }

  private sampleDemand(c: CircuitState, previous: number): number {
    const target = c.spec.capacityKw * c.spec.duty * (0.85 + this.rng() * 0.3);
    return Math.min(c.spec.capacityKw, Math.max(0, 0.6 * previous + 0.4 * target));
  }
}

function shortReason(plan: ReturnType<typeof planShed>): string {
  return plan.totalKw >= plan.availableKw
    ? `only ${plan.totalKw} kW of non-critical load available`
    : `${plan.totalKw} kW shed, within ${MET_TOLERANCE * 100}% of the request: the next circuit would overshoot it`;
}

/** Keys of `state.reported` beyond the VOLTTRON VEN, mirroring what `desired` may set (see device/README.md). */
export interface ReportedExtras {
  state: { reported: { reporting_interval_sec: number; circuit_enabled: Record<string, boolean> } };
}
