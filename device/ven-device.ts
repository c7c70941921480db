// VEN mode (VOLTTRON VEN): a panel publishing metering, its shadow and (optionally) load snapshots, obeying
// demand-response events, restore and ping on `ven/cmd/{venId}` and circuit switches from the shadow.
import type { Ack, Command, EventCommand, Metering, MeteringBatch } from '../lambdas/core/contracts/schemas.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import { handleCommand, rejection } from './commands.js';
import { PanelModel, type PanelSpec } from './panel.js';
import { hashString, type Rng } from './random.js';
import { RecentAcks, type Device, type DeviceRuntime, type DeviceStatus } from './runtime.js';
import type { ScheduledTask } from './scheduler.js';
import { readDesired, type VenDesired } from './shadow.js';
import { shadowChange, type ReportedView } from './shadow-change.js';
import { venTopics, type VenTopics } from './ven-topics.js';

export interface VenIntervals {
  readonly meteringMs: number;
  /** The shadow's period, or its heartbeat when reported on change. */
  readonly shadowMs: number;
  /** 0: no `ven/loads/{id}` snapshots (the default: nothing subscribes to them). */
  readonly loadsMs: number;
}

export interface VenMetering {
  /**
   * Samples per metering message (`{venId, batch: [...]}` when above 1); default 1, the VOLTTRON VEN's one per sample. A
   * batch goes out early on each connect (a sample is taken then: the platform sees the device at once) and with
   * every sample while an event is active (its measured shed follows the event).
   */
  readonly batch?: number;
  /** Publish each sample again on `ven/telemetry/{venId}` (VOLTTRON VEN); default true. */
  readonly telemetryCopy?: boolean;
}

export interface VenOptions {
  readonly runtime: DeviceRuntime;
  readonly thingName: string;
  readonly panel: PanelSpec;
  readonly rng: Rng;
  readonly intervals: VenIntervals;
  readonly topics?: VenTopics;
  readonly metering?: VenMetering;
  /**
   * Report the shadow when what it shows changes (device/shadow-change.ts: circuits, critical set, active event,
   * reporting interval, a material power change), checked with every sample, and otherwise once every
   * `intervals.shadowMs` (the heartbeat). Default false: the VOLTTRON VEN's report every `shadowMs`.
   */
  readonly shadowOnChange?: boolean;
}

/** A batch goes out before its JSON passes this, whatever its sample count (AWS IoT's limit is 128 KiB). */
const MAX_BATCH_BYTES = 96 * 1024;

export class VenDevice implements Device {
  readonly mode = 'ven' as const;
  readonly thingName: string;
  readonly panel: PanelModel;
  private readonly rt: DeviceRuntime;

  get runtime(): DeviceRuntime {
    return this.rt;
  }
  private readonly topics: VenTopics;
  private readonly intervals: VenIntervals;
  private meteringMs: number;
  private tasks: ScheduledTask[] = [];
  private meteringTask: ScheduledTask | undefined;
  private eventTimer: NodeJS.Timeout | undefined;
  private readonly recent = new RecentAcks<Ack>();
  private readonly batchSize: number;
  private readonly telemetryCopy: boolean;
  private pending: Metering[] = [];
  private pendingBytes = 0;
  /** Set on connect: the next sample goes out at once with whatever waits. */
  private flushNext = false;
  /** Epoch seconds of the last sample taken. */
  private lastTimestamp = -1;
  private readonly shadowOnChange: boolean;
  private lastShadow: { readonly reported: ReportedView; readonly at: number } | undefined;

  constructor(options: VenOptions) {
    this.rt = options.runtime;
    this.thingName = options.thingName;
    this.panel = new PanelModel(options.panel, options.rng);
    this.topics = options.topics ?? venTopics(options.thingName);
    this.intervals = options.intervals;
    this.meteringMs = options.intervals.meteringMs;
    this.batchSize = options.metering?.batch ?? 1;
    this.telemetryCopy = options.metering?.telemetryCopy ?? true;
    this.shadowOnChange = options.shadowOnChange ?? false;
    const shadow = (op: Parameters<typeof topics.shadow>[1]) => topics.shadow(this.thingName, op);
    this.rt.on(this.topics.command, (p) => this.handleCommand(p));
    this.rt.on(shadow('update/delta'), (p) => this.handleDesired(p, 'delta'));
    this.rt.on(shadow('get/accepted'), (p) => this.handleDesired(p, 'document'));
    this.rt.on(shadow('update/rejected'), (p) =>
      this.rt.log.warn('shadow update rejected', { response: p.slice(0, 512) }),
    );
    this.rt.on(shadow('get/rejected'), (p) => this.rt.log.debug('shadow get rejected', { response: p.slice(0, 512) }));
    this.rt.onOnline(() => {
      this.rt.outbox.sendLive(shadow('get'), '{}', 1);
      this.reportShadow();
      // batching: a sample now, sent at once with what waits, so that the platform has the device's reading
      // (registry, latest numbers) without waiting for a batch to fill
      this.flushNext = true;
      if (this.batchSize > 1 && this.meteringTask) this.publishMetering();
    });
  }

  async start(): Promise<boolean> {
    const phase = (period: number) => hashString(this.thingName) % period;
    const s = this.rt.scheduler;
    this.meteringTask = s.every(this.meteringMs, () => this.publishMetering(), phase(this.meteringMs));
    const shadowTask = this.shadowOnChange ? () => this.checkShadow() : () => this.reportShadow();
    this.tasks.push(this.meteringTask, s.every(this.intervals.shadowMs, shadowTask, phase(this.intervals.shadowMs)));
    if (this.intervals.loadsMs > 0) {
      this.tasks.push(s.every(this.intervals.loadsMs, () => this.publishLoads(), phase(this.intervals.loadsMs)));
    }
    return this.rt.start();
  }

  async stop(): Promise<void> {
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
    clearTimeout(this.eventTimer);
    this.flushBatch();
    await this.rt.stop();
  }

  status(): DeviceStatus {
    const event = this.panel.event;
    return {
      thingName: this.thingName,
      mode: this.mode,
      ...this.rt.status(),
      state: {
        usedPowerKw: round2(this.panel.usedKw()),
        shedPowerKw: round2(this.panel.shedKw()),
        meteringIntervalSec: this.meteringMs / 1000,
        activeEvent: event
          ? { eventId: event.eventId, requestedKw: event.requestedKw, endsAt: new Date(event.endsAtMs).toISOString() }
          : null,
        circuits: this.panel.circuits.map((c) => ({
          id: c.spec.id,
          enabled: c.enabled,
          shed: c.shed,
          critical: c.spec.critical,
        })),
      },
    };
  }

  /**
   * One metering sample: a simulation step, then the same payload on both topics (VOLTTRON VEN), or into the batch
   * (where a second sample within the same second is left out).
   */
  publishMetering(): void {
    this.panel.step();
    if (this.shadowOnChange) this.checkShadow();
    const sample = this.panel.metering(this.thingName, this.rt.now());
    if (this.batchSize <= 1) {
      const payload = JSON.stringify(sample);
      this.rt.outbox.sendDurable(this.topics.metering, payload);
      if (this.telemetryCopy) this.rt.outbox.sendLive(this.topics.telemetry, payload);
      return;
    }
    // Two samples of one second share a time-series key; in one batch the store would refuse them both.
    if (sample.timestamp !== this.lastTimestamp) this.addToBatch(sample);
    if (this.pending.length >= this.batchSize || this.flushNext || this.panel.event) this.flushBatch();
    this.flushNext = false;
  }

  private addToBatch(sample: Metering): void {
    this.lastTimestamp = sample.timestamp;
    const payload = JSON.stringify(sample);
    if (this.telemetryCopy) this.rt.outbox.sendLive(this.topics.telemetry, payload);
    if (this.pendingBytes + payload.length > MAX_BATCH_BYTES) this.flushBatch();
    this.pending.push(sample);
    this.pendingBytes += payload.length + 1;
  }

  /** Sends the samples collected so far as one batched metering message (durable, like single metering). */
  flushBatch(): void {
    if (this.pending.length === 0) return;
    const batch: MeteringBatch = { venId: this.thingName, batch: this.pending };
    this.pending = [];
    this.pendingBytes = 0;
    this.rt.outbox.sendDurable(this.topics.metering, JSON.stringify(batch));
  }

  reportShadow(): void {
    this.sendShadow(this.shadowDocument());
  }

  /** On-change reporting: the shadow goes out when it shows something new, or when the heartbeat is due. */
  checkShadow(): void {
    const doc = this.shadowDocument();
    const due = this.lastShadow === undefined || this.rt.now() - this.lastShadow.at >= this.intervals.shadowMs;
    if (due || shadowChange(this.lastShadow?.reported, doc.state.reported)) this.sendShadow(doc);
  }

  private shadowDocument() {
    return this.panel.shadowReported(this.rt.now(), Math.round(this.meteringMs / 1000));
  }

  private sendShadow(doc: ReturnType<PanelModel['shadowReported']>): void {
    this.lastShadow = { reported: doc.state.reported, at: this.rt.now() };
    this.rt.outbox.sendLive(topics.shadow(this.thingName, 'update'), JSON.stringify(doc), 1);
  }

  publishLoads(): void {
    this.rt.outbox.sendLive(this.topics.loads, JSON.stringify(this.panel.loadsSnapshot(this.thingName, this.rt.now())));
  }

  handleCommand(payload: string): void {
    const now = this.rt.now();
    const cmd = handleCommand(payload, now, {
      recent: this.recent,
      log: this.rt.log,
      apply: (c, at) => this.apply(c, at),
      sendAck: (ack) => this.sendAck(ack),
    });
    if (cmd?.op === 'event' || cmd?.op === 'restore') this.reportShadow();
  }

  private apply(cmd: Command, now: number): Ack {
    switch (cmd.op) {
      case 'event':
        return this.startEvent(cmd, now);
      case 'restore': {
        clearTimeout(this.eventTimer);
        const ack = this.panel.restore(cmd.correlationId, now);
        this.rt.log.info('restored', { correlationId: cmd.correlationId, eventId: ack.event_id });
        return ack;
      }
      case 'ping':
        return { op: 'ping', status: 'pong', ts: Math.floor(now / 1000), correlationId: cmd.correlationId };
      case 'dispatch':
        return rejection(
          'dispatch',
          cmd,
          cmd.correlationId,
          'dispatch is for site gateways: this device is a VEN',
          now,
        )!;
    }
  }

  private startEvent(cmd: EventCommand, now: number): Ack {
    const ack = this.panel.startEvent(cmd, now);
    const fields = {
      correlationId: cmd.correlationId,
      eventId: cmd.event_id,
      requestedKw: cmd.shed_kw,
      actualKw: ack.actual_shed_kw,
      circuits: ack.circuits_curtailed.map((c) => c.loadId),
    };
    if (ack.status === 'rejected') {
      this.rt.log.warn('event rejected', { ...fields, reason: ack.reason });
      return ack;
    }
    this.rt.log.info('event started', { ...fields, durationSec: cmd.duration_sec });
    clearTimeout(this.eventTimer);
    this.eventTimer = setTimeout(() => this.endEvent(cmd), cmd.duration_sec * 1000);
    return ack;
  }

  /** The event ran its course: circuits back on and a restore ACK under the event's correlationId. */
  private endEvent(cmd: EventCommand): void {
    const event = this.panel.event;
    if (!event || event.correlationId !== cmd.correlationId) return;
    const ack = this.panel.restore(cmd.correlationId, this.rt.now());
    this.rt.log.info('event ended: restored', { correlationId: cmd.correlationId, eventId: cmd.event_id });
    this.sendAck(ack);
    this.reportShadow();
  }

  private handleDesired(payload: string, source: 'delta' | 'document'): void {
    const read = readDesired(payload, source);
    if (!read.ok) {
      this.rt.log.warn('shadow desired state ignored', { error: read.message });
      return;
    }
    if (this.applyDesired(read.desired)) this.reportShadow();
  }

  /** True when something changed, so that only a real change is reported back at once. */
  private applyDesired(desired: VenDesired): boolean {
    let changed = false;
    const intervalMs =
      desired.reporting_interval_sec !== undefined ? desired.reporting_interval_sec * 1000 : this.meteringMs;
    if (intervalMs !== this.meteringMs) {
      this.meteringMs = intervalMs;
      this.meteringTask?.reschedule(intervalMs);
      this.rt.log.info('reporting interval set', { reportingIntervalSec: intervalMs / 1000 });
      changed = true;
    }
    if (desired.circuit_enabled !== undefined) {
      const before = JSON.stringify(this.panel.circuitEnabled());
      const result = this.panel.setCircuitsEnabled(desired.circuit_enabled);
      if (result.unknown.length > 0 || result.refusedCritical.length > 0) {
        this.rt.log.warn('circuit switches not applied', {
          unknown: result.unknown,
          refusedCritical: result.refusedCritical,
        });
      }
      if (JSON.stringify(this.panel.circuitEnabled()) !== before) {
        this.rt.log.info('circuit switches applied', { circuits: result.applied });
        changed = true;
      }
    }
    return changed;
  }

  private sendAck(ack: Ack): void {
    this.rt.outbox.sendDurable(this.topics.ack, JSON.stringify(ack));
  }
}

const round2 = (v: number) => Math.round(v * 100) / 100;
