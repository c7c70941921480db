// Settlement of fleet DR events: once an event has ended and SETTLEMENT_GRACE_MS has passed, its report is computed
// once and stored (what `GET /api/events/{eventId}` and its CSV then read), and each VEN's ledger gets one
// `settlement` entry: the kWh it delivered (from that stored report) × the price of the event's program, or for the
// built-in program (no price) the shed price of the VEN's tariff (its metadata).
// Exactly once per event and VEN however many sweeps run, retry or race: the first stored report is the one every
// sweep settles from, and each entry is appended with appendOnce (the chain's own conditional append, no lock); the
// event is marked settled last, so a sweep that dies half-way leaves it for the next. Just before, the report's CSV is
// written to the report files (report-files.ts) from that same stored report: a settled event always has its file.
import { businessMetrics } from '../common/metrics.js';
import {
  fleetEventReport,
  reportView,
  type FleetEventReport,
  type FleetEventReportView,
  type ReportPorts,
} from './fleet-event.js';
import { appendOnce, type LedgerStore } from '../records/ledger.js';
import { logger } from '../common/logger.js';
import { mapLimited } from '../common/map-limited.js';
import type { MetadataStore } from '../records/metadata.js';
import type { FleetEventRecord } from './fleet-event-store.js';
import { reportCsvLines, type ReportFiles } from './report-files.js';

/**
 * How long after an event's end it is settled: the metering rule batches up to 60 s before a sample is stored, and
 * a VEN that was offline a moment sends late; 5 minutes covers both. A sample stored later than that is not in the
 * stored report (which says when it was computed: `report_computed_at`) nor in the settlement.
 */
export const SETTLEMENT_GRACE_MS = 5 * 60_000;
/** How far back (by start) a sweep looks for events to settle: the longest event (7 days) and a week of sweeps down. */
export const SETTLEMENT_LOOKBACK_MS = 14 * 86_400_000;

/** VENs settled at once. */
const SETTLE_PARALLEL = 8;

export type SettlementPorts = ReportPorts & {
  readonly ledger: LedgerStore;
  readonly metadata: Pick<MetadataStore, 'get'>;
  readonly reports: Pick<ReportFiles, 'put'>;
};

/** What the ledger entry of a VEN's settlement carries (`data`); its `ref` is the event id. */
export interface SettlementData {
  readonly eventId: string;
  readonly delivered_kwh: number | null;
  /** The program's price, else the shed price of the VEN's tariff when settled; null without one. */
  readonly tariff_per_kwh: number | null;
  /** delivered_kwh × tariff_per_kwh, to the cent; null without a tariff or without a measurement. */
  readonly amount: number | null;
  readonly currency: string | null;
  readonly report_computed_at: string;
  /** Why `amount` is null, when it is. */
  readonly note?: string;
}

export type StoredFleetEventReport = FleetEventReportView & { report_computed_at: string };

/**
 * Settles every event due at `now` (ended more than the grace ago, not settled yet); returns their ids. An event that
 * fails is logged and left for the next run, after the others had their turn; the run then fails (the Errors alarm).
 */
export async function settleDueEvents(
  ports: SettlementPorts,
  now: number,
  grace = SETTLEMENT_GRACE_MS,
): Promise<string[]> {
  const settled: string[] = [];
  const failed: string[] = [];
  let next: string | undefined;
  walk: do {
    const page = await ports.fleetEvents.list({
      limit: 100,
      since: now - SETTLEMENT_LOOKBACK_MS,
      ...(next && { next }),
    });
    for (const event of page.items) {
      if (event.startedAt < now - SETTLEMENT_LOOKBACK_MS) break walk;
      if (
        event.settledAt !== undefined ||
        event.cancelledAt !== undefined ||
        event.single ||
        now < event.endsAt + grace
      )
        continue;
      try {
        await settleEvent(event, ports, now);
        settled.push(event.eventId);
      } catch (err) {
        logger.error('settlement failed', { eventId: event.eventId, error: err as Error });
        failed.push(event.eventId);
      }
    }
    next = page.next;
  } while (next);
  businessMetrics.settlementFailures(failed.length);
  if (failed.length > 0) throw new Error(`settlement failed for ${failed.join(', ')} (settled: ${settled.length})`);
  return settled;
}

/** The event's report stored (the first one stored, if another sweep got there first), then each VEN's entry. */
export async function settleEvent(event: FleetEventRecord, ports: SettlementPorts, now: number) {
  const { report } = await storedOrNewReport(event, ports, now);
  const vens = report.vens.map((v) => ({ venId: v.venId, delivered_kwh: v.delivered_kwh }));
  // VENs in parallel, a few at a time (each its own chain); one failing stops the event's settlement until the next run
  await mapLimited(vens, SETTLE_PARALLEL, async (ven) => {
    const data = await settlementOf(ven, report, ports.metadata);
    const { appended } = await appendOnce(
      ports.ledger,
      { nodeId: ven.venId, type: 'settlement', ref: event.eventId, data: { ...data } },
      now,
      new Date(event.endsAt).toISOString(),
    );
    if (appended)
      logger.info('settled', {
        eventId: event.eventId,
        venId: ven.venId,
        amount: data.amount,
        currency: data.currency,
      });
  });
  await writeReportFile(event.eventId, ports, now);
  await ports.fleetEvents.markSettled(event.eventId, now, {
    result: report.result ?? null,
    measured_shed_kw: report.measured_shed_kw,
  });
}

/** The stored report, with each VEN's intervals, as the event's CSV file (the same bytes on every retry). */
async function writeReportFile(eventId: string, ports: SettlementPorts, now: number) {
  const report = (await readEventReport(eventId, ports, now, true)) as FleetEventReport;
  const { bytes } = await ports.reports.put(eventId, () => reportCsvLines(report));
  logger.info('report file written', { eventId, bytes });
}

async function storedOrNewReport(event: FleetEventRecord, ports: SettlementPorts, now: number) {
  const stored = await ports.fleetEvents.getReport(event.eventId, false);
  if (stored) return { report: stored.report as StoredFleetEventReport };
  const full = await fleetEventReport(event.eventId, ports, now);
  const report: StoredFleetEventReport = { ...reportView(full), report_computed_at: new Date(now).toISOString() };
  const parts = report.ven_intervals === 'csv' ? full.vens.map((v) => v.intervals) : [];
  if (await ports.fleetEvents.putReport(event, { report, parts })) return { report };
  const first = await ports.fleetEvents.getReport(event.eventId, false);
  if (!first) throw new Error(`the stored report of ${event.eventId} vanished`);
  return { report: first.report as StoredFleetEventReport };
}

async function settlementOf(
  ven: { venId: string; delivered_kwh: number | null },
  report: StoredFleetEventReport,
  metadata: SettlementPorts['metadata'],
): Promise<SettlementData> {
  const base = {
    eventId: report.eventId,
    delivered_kwh: ven.delivered_kwh,
    report_computed_at: report.report_computed_at,
  };
  // an event of a priced program settles at the program's price; the built-in program at each VEN's tariff
  const program = report.program as
    { program_id: string; price_per_kwh: number | null; currency: string | null } | undefined;
  const tariff =
    program?.price_per_kwh != null
      ? { shed_price_per_kwh: program.price_per_kwh, currency: program.currency ?? 'USD' }
      : (await metadata.get(ven.venId))?.tariff;
  if (!tariff)
    return { ...base, tariff_per_kwh: null, amount: null, currency: null, note: 'no tariff in the VEN metadata' };
  const priced = { ...base, tariff_per_kwh: tariff.shed_price_per_kwh, currency: tariff.currency };
  if (ven.delivered_kwh === null) return { ...priced, amount: null, note: 'nothing measured during the event' };
  return { ...priced, amount: cents(ven.delivered_kwh * tariff.shed_price_per_kwh) };
}

const cents = (x: number) => Math.round(x * 100) / 100;

/**
 * The report of `GET /api/events/{eventId}`: the stored one once settled (one read), else computed now. `full`: each
 * VEN's intervals too, whatever the size (the CSV).
 */
export async function readEventReport(
  eventId: string,
  ports: ReportPorts,
  now: number,
  full = false,
): Promise<FleetEventReportView | StoredFleetEventReport | FleetEventReport> {
  const stored = await ports.fleetEvents.getReport(eventId, full);
  if (stored) {
    const report = { ...(stored.report as StoredFleetEventReport), status: 'settled' as const };
    if (!full || report.ven_intervals === 'inline') return report;
    return {
      ...report,
      vens: report.vens.map((v, i) => ({ ...v, intervals: (stored.parts[i] ?? []) as typeof v.intervals })),
    };
  }
  const live = await fleetEventReport(eventId, ports, now);
  return full ? live : reportView(live);
}
