// Fleet demand-response events: one shed request split over VENs by what they can shed now (never critical
// loads), one VOLTTRON `event` command per VEN under a shared event_id, and the report of requested vs
// acknowledged vs measured shed. A VEN runs one event at a time (a new one replaces it), so an event commits each VEN
// it allocates for its window (from its start, now or scheduled, to its end): a VEN committed to another event for
// some of that window is left out, named, and an event that finds nothing left to allocate is refused (409).
// Commitments are conditional writes, so two requests racing never both take a VEN: the one that loses plans again
// without it. A scheduled event is sent by the housekeeping sweep at its start (event-lifecycle.ts).
import * as z from 'zod';
import { allocateShed, type ShedCandidate } from './allocation.js';
import { baselineReads, computeBaseline, INTERVAL_MS, kw, type BaselineInput } from '../analytics/baseline.js';
import { DEFAULT_TERMS, type MarketTerms } from '../programs/market-days.js';
import { DEFAULT_PROGRAM_ID, type ProgramTerms } from '../contracts/programs.js';
import { eventCommand, sendCommand, type CommandContext, type CommandPorts } from '../commands/commands.js';
import { ConflictError, NotFoundError } from '../contracts/errors.js';
import {
  eventResult,
  fleetIntervals,
  MIN_COVERAGE,
  PERFORMANCE_TOLERANCE,
  READING_MS,
  venPerformance,
} from './event-performance.js';
import { mapLimited } from '../common/map-limited.js';
import { meterSamples } from './meter-samples.js';
import type { Device, DeviceRegistry } from '../fleet/registry.js';
import {
  fleetEventStatus,
  type FleetEventRecord,
  type FleetEventStore,
  type VenCommitment,
} from './fleet-event-store.js';
import type { TelemetryStore } from '../timeseries/telemetry-store.js';
import { listAll } from '../fleet/registry-pages.js';
import type { RollupStore } from '../analytics/rollups-dynamodb.js';
import { shedFactors } from './shed-forecast.js';
import type { ShedTier } from '../fleet/shed-capability.js';

export interface FleetEventRequest {
  readonly shed_kw: number;
  readonly duration_sec: number;
  /** Default: every online VEN. */
  readonly ven_ids?: readonly string[];
  /** The program the event runs in (its terms are kept with the event); default: the built-in one. */
  readonly program?: ProgramTerms;
  /** Epoch milliseconds: a scheduled start (the housekeeping sweep sends it then); default now. */
  readonly start_at?: number;
  /** Default: "Shed 1.5 MW · Mon 17:00 UTC" (eventName). */
  readonly name?: string;
}

/** An event's default name: what it sheds and when it starts (UTC), e.g. "Shed 1.5 MW · Mon 17:00 UTC". */
export function eventName(shedKw: number, start: number): string {
  const size = shedKw >= 1000 ? `${Number((shedKw / 1000).toFixed(2))} MW` : `${Number(shedKw.toFixed(1))} kW`;
  const d = new Date(start);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  return `Shed ${size} · ${day} ${d.toISOString().slice(11, 16)} UTC`;
}

export interface FleetEventPorts extends CommandPorts {
  readonly registry: DeviceRegistry;
  readonly fleetEvents: FleetEventStore;
  readonly telemetry: TelemetryStore;
}

/**
 * Who would shed what: the allocation over the VENs asked for (default: every online one), each VEN's loads weighed by
 * its load forecast over the event window (shed-forecast.ts), who is left out, and what is already committed to
 * events still running (those VENs are left out too).
 */
export async function planFleetEvent(
  req: FleetEventRequest,
  ports: Pick<FleetEventPorts, 'registry' | 'fleetEvents'> & { rollups: Pick<RollupStore, 'query'> },
  now: number,
) {
  const vens = req.ven_ids ? await namedVens(ports.registry, req.ven_ids) : await listAll(ports.registry, 'ven', true);
  const start = req.start_at ?? now;
  // what holds a VEN for some of this event's window (a scheduled event's too)
  const held = await ports.fleetEvents.commitments(
    vens.filter((v) => v.online).map((v) => v.deviceId),
    start,
    start + req.duration_sec * 1000,
  );
  const excluded: FleetEventRecord['excluded'][number][] = [];
  const sheddable: Device[] = [];
  for (const ven of vens) {
    const commitment = held.get(ven.deviceId);
    if (!ven.online) excluded.push({ venId: ven.deviceId, reason: 'offline' });
    else if (commitment)
      excluded.push({
        venId: ven.deviceId,
        reason: `committed to ${commitment.eventId} until ${new Date(commitment.until).toISOString()}`,
      });
    else if (shedLoadsOf(ven).length === 0)
      excluded.push({ venId: ven.deviceId, reason: 'no sheddable load reported' });
    else sheddable.push(ven);
  }
  const factors = await shedFactors(ports.rollups, sheddable, start, req.duration_sec);
  const candidates: ShedCandidate[] = sheddable.map((ven) => ({
    venId: ven.deviceId,
    loads: shedLoadsOf(ven),
    factor: factors.get(ven.deviceId)!,
  }));
  const { allocations, allocated_kw, shortfall_kw } = allocateShed(req.shed_kw, candidates);
  return {
    requested_kw: req.shed_kw,
    allocated_kw,
    shortfall_kw,
    allocations,
    excluded,
    committed: [...held.values()].map(committedView),
  };
}

const committedView = (c: VenCommitment) => ({
  venId: c.venId,
  eventId: c.eventId,
  shed_kw: c.shed_kw,
  until: new Date(c.until).toISOString(),
});

/** Plans before giving up when other events keep taking the VENs planned with (each loss plans again without them). */
const COMMIT_ATTEMPTS = 5;
/** Commitments written at once. */
const COMMIT_PARALLEL = 16;

export async function startFleetEvent(
  req: FleetEventRequest,
  ports: FleetEventPorts & { rollups: Pick<RollupStore, 'query'> },
  ctx: CommandContext,
) {
  const eventId = `evt-${ctx.newId()}`;
  const start = req.start_at ?? ctx.now;
  const endsAt = start + req.duration_sec * 1000;
  for (let attempt = 1; attempt <= COMMIT_ATTEMPTS; attempt++) {
    const plan = await planFleetEvent(req, ports, ctx.now);
    if (plan.allocations.length === 0 && plan.committed.length > 0) {
      throw new ConflictError(
        `nothing left to allocate: ${plan.committed.map((c) => `${c.venId} (${c.shed_kw} kW) is committed to ${c.eventId} until ${c.until}`).join('; ')}`,
      );
    }
    const commitments = plan.allocations.map((a): VenCommitment => ({
      venId: a.venId,
      eventId,
      since: start,
      until: endsAt,
      shed_kw: a.shed_kw,
    }));
    const lost = await mapLimited(commitments, COMMIT_PARALLEL, (c) => ports.fleetEvents.commit(c, ctx.now));
    if (lost.every((l) => l === undefined)) return launch(eventId, req, plan, ports, ctx, endsAt);
    // another event took some of them meanwhile: give back what this attempt took, plan again without them
    await mapLimited(commitments, COMMIT_PARALLEL, (c, i) =>
      lost[i] ? Promise.resolve() : ports.fleetEvents.uncommit(c.venId, eventId),
    );
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * attempt));
  }
  throw new ConflictError(`other events kept taking the VENs planned with (${COMMIT_ATTEMPTS} attempts): plan again`);
}

async function launch(
  eventId: string,
  req: FleetEventRequest,
  plan: Awaited<ReturnType<typeof planFleetEvent>>,
  ports: FleetEventPorts,
  ctx: CommandContext,
  endsAt: number,
) {
  const scheduled = req.start_at !== undefined;
  const startedAt = req.start_at ?? ctx.now;
  const event: FleetEventRecord = {
    eventId,
    name: req.name ?? eventName(req.shed_kw, startedAt),
    requested_kw: req.shed_kw,
    duration_sec: req.duration_sec,
    startedAt,
    endsAt,
    allocations: plan.allocations.map((a) => ({ ...a, correlationId: ctx.newId() })),
    shortfall_kw: plan.shortfall_kw,
    excluded: plan.excluded,
    ...(req.program && req.program.program_id !== DEFAULT_PROGRAM_ID && { program: req.program }),
    ...(scheduled ? { scheduled: true } : { launchedAt: ctx.now }),
  };
  const release = () =>
    mapLimited(event.allocations, COMMIT_PARALLEL, (a) => ports.fleetEvents.uncommit(a.venId, eventId));
  if (!(await ports.fleetEvents.create(event))) {
    await release();
    throw new Error(`event id ${eventId} already taken`);
  }
  const head = {
    eventId,
    name: event.name!,
    status: scheduled ? ('scheduled' as const) : ('running' as const),
    start: new Date(startedAt).toISOString(),
  };
  // a scheduled event's VENs are held for its window; the housekeeping sweep sends them their commands at its start
  if (scheduled)
    return { ...head, ...plan, allocations: event.allocations.map((a) => ({ ...a, status: 'scheduled' })) };
  const sent = await Promise.allSettled(
    event.allocations.map((a) =>
      sendCommand(ports, a.venId, eventCommand(eventId, a.shed_kw, req.duration_sec, a.correlationId), ctx, {
        fleetEventId: eventId,
      }),
    ),
  );
  const failed = sent.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed.length > 0 && failed.length === sent.length) {
    await release();
    throw failed[0]!.reason;
  }
  return {
    ...head,
    ...plan,
    allocations: event.allocations.map((a, i) => ({
      ...a,
      status: sent[i]!.status === 'fulfilled' ? 'sent' : 'failed',
    })),
  };
}

/** VENs whose metering a report reads at once. */
const REPORT_PARALLEL = 16;

/** What a report reads: the event, its commands' ACKs and the VENs' metering. */
export type ReportPorts = Pick<FleetEventPorts, 'fleetEvents' | 'commands' | 'telemetry'>;

export async function fleetEventReport(eventId: string, ports: ReportPorts, now: number) {
  const event = await ports.fleetEvents.get(eventId);
  if (!event) throw new NotFoundError(`event ${eventId}`);
  const status = fleetEventStatus(event, now);
  // nothing was sent (yet): nothing to measure
  const sent = status !== 'scheduled' && status !== 'cancelled';
  // whole intervals up to the one in progress: its baseline is the whole interval's, its load what came so far
  const terms: MarketTerms = event.program ?? DEFAULT_TERMS;
  const end = Math.min(
    event.endsAt,
    event.startedAt + Math.max(1, Math.ceil((now - event.startedAt) / INTERVAL_MS)) * INTERVAL_MS,
  );
  // a few VENs at a time: each reads up to 32 windows of metering
  const measuredVens = !sent
    ? []
    : await mapLimited(event.allocations, REPORT_PARALLEL, async (a) => {
        const command = await ports.commands.get(a.correlationId);
        const ack = command?.ack?.op === 'event' ? command.ack : undefined;
        // a VEN released early (restored) is measured up to its release: what it sheds after may be another event's
        const released = event.released?.[a.venId];
        const venEnd = released === undefined ? end : Math.max(event.startedAt + 1, Math.min(end, released));
        const baselineInput = await readBaselineInput(ports.telemetry, a.venId, event.startedAt, venEnd, terms);
        const baseline = computeBaseline(baselineInput, terms);
        return {
          ...a,
          status: command?.status ?? 'not-sent',
          actual_shed_kw: ack?.status === 'accepted' ? ack.actual_shed_kw : null,
          ...withDelivered(venPerformance(baseline, baselineInput.during, a.expected_kw ?? a.shed_kw, now)),
          baseline_source: baseline.days.length
            ? ('history' as const)
            : baseline.method === 'payload'
              ? ('payload' as const)
              : null,
          baseline_days: baseline.days.length,
          baseline: { method: baseline.method, days: baseline.days, adjustment: baseline.adjustment },
          ...(released !== undefined && { released_at: new Date(released).toISOString() }),
        };
      });
  const vens = measuredVens.map((v) => ({ ...v, intervals: v.intervals.map(isoTimes) }));
  const measured = vens.flatMap((v) => (v.measured_shed_kw !== null ? [v.measured_shed_kw] : []));
  const intervals = fleetIntervals(measuredVens, event.requested_kw, now);
  return {
    eventId,
    name: event.name ?? eventName(event.requested_kw, event.startedAt),
    kind: event.single ? ('ven' as const) : ('fleet' as const),
    status,
    result: eventResult(intervals),
    program: programView(event),
    start: new Date(event.startedAt).toISOString(),
    end: new Date(event.endsAt).toISOString(),
    duration_sec: event.duration_sec,
    ...(event.endedAt !== undefined && { ended_early_at: new Date(event.endedAt).toISOString() }),
    ...(event.cancelledAt !== undefined && { cancelled_at: new Date(event.cancelledAt).toISOString() }),
    requested_kw: event.requested_kw,
    allocated_kw: allocatedKw(event),
    shortfall_kw: event.shortfall_kw,
    acknowledged_kw: kw(vens.reduce((s, v) => s + (v.actual_shed_kw ?? 0), 0)),
    measured_shed_kw: measured.length ? kw(measured.reduce((s, v) => s + v, 0)) : null,
    delivered_kwh: sumOrNull(vens.map((v) => v.delivered_kwh)),
    baseline_method: baselineMethod(terms),
    tolerance: PERFORMANCE_TOLERANCE,
    coverage_rule: COVERAGE_RULE,
    intervals: intervals.map(isoTimes),
    vens,
    // before it is sent: who it holds
    ...(!sent && {
      planned: event.allocations.map(({ venId, shed_kw, expected_kw }) => ({
        venId,
        shed_kw,
        ...(expected_kw !== undefined && { expected_kw }),
      })),
    }),
    excluded: event.excluded,
  };
}

const COVERAGE_RULE =
  `an interval is judged once it has closed and at least ${MIN_COVERAGE * 100}% of its expected readings (one every ` +
  `${READING_MS / 1000} s per VEN) were used; with fewer it is "insufficient", not pass or fail`;

export type FleetEventReport = Awaited<ReturnType<typeof fleetEventReport>>;

/** Per-VEN intervals a report serves inline at most (all VENs together); past it, only the CSV has them. */
export const MAX_INLINE_VEN_INTERVALS = 10_000;

/**
 * The report as `GET /api/events/{eventId}` serves it: whole, unless its VENs' intervals add up past
 * MAX_INLINE_VEN_INTERVALS (a 24 h event over 1,000 VENs has 288,000: tens of MB of JSON); then each VEN's `intervals`
 * is empty there and `ven_intervals` says `csv`: `/report.csv` has them all.
 */
export function reportView(report: FleetEventReport) {
  const inline = report.vens.reduce((n, v) => n + v.intervals.length, 0) <= MAX_INLINE_VEN_INTERVALS;
  return {
    ...report,
    ven_intervals: inline ? ('inline' as const) : ('csv' as const),
    vens: inline ? report.vens : report.vens.map((v) => ({ ...v, intervals: [] as typeof v.intervals })),
  };
}

export type FleetEventReportView = ReturnType<typeof reportView>;

/**
 * What a VEN delivered: each interval's measured shed × its length in hours (the last interval may be shorter),
 * added up; an interval with nothing measured adds nothing, a negative shed (load above baseline) subtracts. Null when
 * no interval was measured.
 */
function withDelivered<T extends { intervals: readonly { start: number; end: number; shed_kw: number | null }[] }>(
  perf: T,
) {
  const kwh = perf.intervals.map((iv) => (iv.shed_kw === null ? null : (iv.shed_kw * (iv.end - iv.start)) / 3_600_000));
  return { ...perf, delivered_kwh: sumOrNull(kwh) };
}

const sumOrNull = (values: readonly (number | null)[]) => {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? kw(known.reduce((s, v) => s + v, 0)) : null;
};

/** The program an event ran in, as its report names it: the price settles it (null: each VEN's tariff). */
const programView = (event: FleetEventRecord) => {
  const p = event.program;
  return p
    ? { program_id: p.program_id, time_zone: p.time_zone, price_per_kwh: p.price_per_kwh, currency: p.currency }
    : { program_id: DEFAULT_PROGRAM_ID, time_zone: 'UTC', price_per_kwh: null, currency: null };
};

function baselineMethod(terms: MarketTerms) {
  const { weekday, weekend_holiday, lookback_days, adjustment } = terms.baseline;
  const holidays =
    terms.holidays === 'none'
      ? 'no holidays'
      : terms.holidays === 'us-federal'
        ? 'US federal holidays'
        : "the program's holidays";
  const pick = ({ n, m }: { n: number; m: number }) =>
    n === m ? `the ${m} most recent` : `the ${n} highest-load of the ${m} most recent`;
  return (
    `per 5-minute interval, the mean load in the same wall-clock interval on ${pick(weekday)} prior weekdays, or for an event ` +
    `on a weekend day or holiday on ${pick(weekend_holiday)} prior weekend days and holidays (local days of ${terms.time_zone}, ` +
    `${holidays}) without an event, within ${lookback_days} days ("n-of-m" with fewer), ` +
    (adjustment
      ? `scaled by the event day's load from ${adjustment.window_start_min / 60} h to ${adjustment.window_end_min / 60} h before the start over those days' (capped to ±${Math.round(adjustment.cap * 100)}%); `
      : 'not adjusted; ') +
    `with no such day, the VEN's own baselinePowerKw`
  );
}

const isoTimes = <T extends { start: number; end: number }>(iv: T) => ({
  ...iv,
  start: new Date(iv.start).toISOString(),
  end: new Date(iv.end).toISOString(),
});

/**
 * The readings the baseline needs (baselineReads): the event, the adjustment window before it, and both again on each
 * look-back day of the event day's type. Two reads a day, so that a long event's readings never crowd out the
 * adjustment window (a read stops at MAX_SAMPLES, meter-samples.ts).
 */
async function readBaselineInput(
  telemetry: TelemetryStore,
  venId: string,
  start: number,
  end: number,
  terms: MarketTerms,
): Promise<BaselineInput> {
  const plan = baselineReads(start, end, terms);
  const read = (w: { from: number; to: number }) => meterSamples(telemetry, venId, w.from, w.to);
  const readAll = async (windows: readonly { from: number; to: number }[]) =>
    (await Promise.all(windows.map(read))).flat();
  const [during, before, ...priorDays] = await Promise.all([
    read({ from: start, to: end }),
    plan.before ? read(plan.before) : Promise.resolve([]),
    ...plan.priorDays.map((windows) => (windows ? readAll(windows) : Promise.resolve([]))),
  ]);
  return { start, end, before, during, priorDays };
}

/**
 * A single-VEN event (`POST /api/vens/{venId}/send-event`) kept beside the fleet's so that it is listed and measured
 * the same way (never settled, nothing committed). An event id already taken (one id sent to several VENs) keeps the
 * first: false then.
 */
export function recordVenEvent(
  store: FleetEventStore,
  cmd: { venId: string; eventId: string; shed_kw: number; duration_sec: number; correlationId: string },
  now: number,
) {
  if (cmd.eventId.includes('/')) return Promise.resolve(false);
  return store.create({
    eventId: cmd.eventId,
    name: `${cmd.venId} · ${eventName(cmd.shed_kw, now)}`,
    requested_kw: cmd.shed_kw,
    duration_sec: cmd.duration_sec,
    startedAt: now,
    endsAt: now + cmd.duration_sec * 1000,
    launchedAt: now,
    allocations: [{ venId: cmd.venId, shed_kw: cmd.shed_kw, correlationId: cmd.correlationId }],
    shortfall_kw: 0,
    excluded: [],
    single: true,
  });
}

/** One line of `GET /api/events`: its result and measured shed once settled (none yet before). */
export function fleetEventSummary(event: FleetEventRecord, now: number) {
  return {
    eventId: event.eventId,
    name: event.name ?? eventName(event.requested_kw, event.startedAt),
    kind: event.single ? ('ven' as const) : ('fleet' as const),
    status: fleetEventStatus(event, now),
    result: event.outcome?.result ?? null,
    measured_shed_kw: event.outcome?.measured_shed_kw ?? null,
    requested_kw: event.requested_kw,
    duration_sec: event.duration_sec,
    startedAt: new Date(event.startedAt).toISOString(),
    endsAt: new Date(event.endsAt).toISOString(),
    allocated_kw: allocatedKw(event),
    shortfall_kw: event.shortfall_kw,
    vens: event.allocations.length,
    program_id: event.program?.program_id ?? DEFAULT_PROGRAM_ID,
    ...(event.single && { venId: event.allocations[0]?.venId ?? null }),
  };
}

const allocatedKw = (event: FleetEventRecord) =>
  kw(event.allocations.reduce((s, a) => s + (a.expected_kw ?? a.shed_kw), 0));

const tiersSchema = z.array(z.object({ priority: z.number(), kw: z.number().nonnegative() }));

/**
 * The sheddable loads of a VEN's latest metering summary (see shedCapability); from a summary that predates them,
 * one load per tier; none when it predates both.
 */
export function shedLoadsOf(ven: Device): ShedTier[] {
  const loads = tiersSchema.safeParse(ven.latest?.shedLoads ?? ven.latest?.shedTiers);
  return loads.success ? loads.data.filter((t) => t.kw > 0) : [];
}

async function namedVens(registry: DeviceRegistry, venIds: readonly string[]): Promise<Device[]> {
  return Promise.all(
    venIds.map(async (id) => {
      const ven = await registry.get(id);
      if (ven?.kind !== 'ven') throw new NotFoundError(`VEN ${id}`);
      return ven;
    }),
  );
}
