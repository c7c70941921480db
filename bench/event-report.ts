// The report of a settled 24 h fleet event over 1,000 VENs, read through the local stack's HTTP API: the history and
// the event are written straight into the stores (a read bench: the ingest path has its own), the event is settled
// (settlement.ts: the report computed once and stored, one ledger entry per VEN, its CSV written to S3), then
// GET /api/events/{id} is timed and the CSV downloaded through the presigned link its route answers with. The CSV's
// size as a Lambda response shows why it cannot come through the API (6 MB).
import { join } from 'node:path';
import { startLocalStack } from '../bin/local/stack.js';
import { createMetadata } from '../lambdas/core/records/metadata.js';
import type { FleetEventRecord } from '../lambdas/core/dr/fleet-event-store.js';
import type { SeriesRecord } from '../lambdas/core/timeseries/telemetry-store.js';
import { readEventReport, settleEvent } from '../lambdas/core/dr/settlement.js';
import type { FleetEventReport } from '../lambdas/core/dr/fleet-event.js';
import { reportCsvLines } from '../lambdas/core/dr/report-files.js';
import { LAMBDA_LIMITS, payloadBytes } from '../bin/local/aws/aws-limits.js';
import { seededRng } from '../device/random.js';
import type { BenchContext } from './harness.js';
import { atMost, int, ms, summarize, type BenchResult } from './stats.js';

const VENS = Number(process.env.BENCH_REPORT_VENS ?? 1000);
const HOURS = 24;
const SAMPLE_MS = 300_000; // one reading per 5-minute interval
const JSON_READS = 200;
const CSV_READS = 20;
const DAY_MS = 86_400_000;

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const stack = await startLocalStack({
    dir: join(ctx.dir, 'event-report'),
    httpPort: 0,
    mqttPort: 0,
    fleet: false,
    commandSweepMs: 3_600_000,
  });
  ctx.onCleanup(() => stack.close());
  const { ports } = stack;
  const random = seededRng(18);

  // the event: yesterday 00:00 to 24:00 UTC, 2 kW asked of each VEN
  const startedAt = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const venIds = Array.from({ length: VENS }, (_, i) => `ven-r${String(i).padStart(4, '0')}`);
  const event: FleetEventRecord = {
    eventId: 'evt-bench-report',
    requested_kw: 2 * VENS,
    duration_sec: HOURS * 3600,
    startedAt,
    endsAt: startedAt + HOURS * 3_600_000,
    allocations: venIds.map((venId, i) => ({ venId, shed_kw: 2, correlationId: `bench-${i}` })),
    shortfall_kw: 0,
    excluded: [],
  };
  ctx.log(`event-report: writing ${VENS} VENs × ${(HOURS * 3_600_000) / SAMPLE_MS} readings and their tariffs`);
  const writeStart = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(process.env.BENCH_REPORT_WRITERS ?? 8) }, async () => {
      while (next < venIds.length) {
        const venId = venIds[next++]!;
        const baseline = 3 + random() * 4;
        const records: SeriesRecord[] = [];
        for (let t = startedAt + 60_000; t < event.endsAt; t += SAMPLE_MS) {
          const usedPowerKw = Math.round((baseline - 2 + (random() - 0.5)) * 1000) / 1000;
          records.push({
            series: 'ven_telemetry',
            deviceId: venId,
            time: t,
            dimensions: { venId },
            measures: { usedPowerKw, baselinePowerKw: baseline },
          });
        }
        await ports.telemetry.write(records);
        const tariff = { shed_price_per_kwh: 0.25, energy_price_per_kwh: 0.3, currency: 'EUR' };
        const location = { lat: 51 + random() * 2, lon: 4 + random() * 2 };
        await createMetadata(
          ports.metadata,
          { nodeId: venId, location, capacity_kw: 10, technology: 'ven', tariff, tags: {}, active: true },
          Date.now(),
        );
      }
    }),
  );
  const writeSeconds = (Date.now() - writeStart) / 1000;
  if (!(await ports.fleetEvents.create(event))) throw new Error('the bench event exists already');

  ctx.log(
    'event-report: settling (the report computed once and stored, one ledger entry per VEN, the CSV written to S3)',
  );
  const settleStart = Date.now();
  const settleMemory = await peakMemory(() => settleEvent(event, ports, Date.now()));
  const settleSeconds = (Date.now() - settleStart) / 1000;
  // the CSV write alone, again (the same bytes): the stored report read back with its parts, then streamed
  const full = (await readEventReport(event.eventId, ports, Date.now(), true)) as FleetEventReport;
  const writeCsvStart = performance.now();
  let csvBytesWritten = 0;
  const writeMemory = await peakMemory(async () => {
    csvBytesWritten = (await ports.reports.put(event.eventId, () => reportCsvLines(full))).bytes;
  });
  const writeCsvMs = performance.now() - writeCsvStart;
  const entries = await ports.ledger.list(venIds[0]!, { limit: 10 });
  if (!entries.items.some((e) => e.type === 'settlement' && e.ref === event.eventId))
    throw new Error('no settlement entry');

  const get = async (path: string) => {
    const t = performance.now();
    const res = await fetch(`${stack.config.apiUrl}${path}`, {
      headers: { authorization: `Bearer ${stack.config.tokens.viewer}` },
    });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.toString('utf8').slice(0, 200)}`);
    return { ms: performance.now() - t, body };
  };
  const path = `/api/events/${event.eventId}`;
  const first = await get(path);
  const report = JSON.parse(first.body.toString('utf8')) as {
    report_computed_at?: string;
    vens: unknown[];
    intervals: unknown[];
    ven_intervals: string;
  };
  if (!report.report_computed_at || report.vens.length !== VENS) throw new Error('GET did not serve the stored report');
  const jsonMs: number[] = [];
  for (let i = 0; i < JSON_READS; i++) jsonMs.push((await get(path)).ms);
  // the download: the route's 302 followed to the presigned link (the token is not sent on to another origin)
  const csvFirst = await get(`${path}/report.csv`);
  const csvMs: number[] = [];
  for (let i = 0; i < CSV_READS; i++) csvMs.push((await get(`${path}/report.csv`)).ms);
  const csvRows = csvFirst.body.toString('utf8').trimEnd().split('\n').length - 1;
  if (csvFirst.body.length !== csvBytesWritten)
    throw new Error(`downloaded ${csvFirst.body.length} bytes, written ${csvBytesWritten}`);
  // what the old route returned: the CSV as the Lambda's response body, over Lambda's 6 MB (API Gateway: 500)
  const oldResponseBytes = payloadBytes({
    statusCode: 200,
    headers: {
      'content-disposition': `attachment; filename="${event.eventId}.csv"`,
      'content-type': 'text/csv; charset=utf-8',
    },
    body: csvFirst.body.toString('utf8'),
  });
  const oldPathFails = oldResponseBytes > LAMBDA_LIMITS.invokeResponseBytes;
  // the largest fleet whose 24 h CSV the old route could still have returned
  const oldPathMaxVens = Math.floor((VENS * LAMBDA_LIMITS.invokeResponseBytes) / oldResponseBytes);

  const json = summarize(jsonMs);
  const csv = summarize(csvMs);
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  const rows: [string, string][] = [
    [
      `GET /api/events/{id} p50 / p99 (${JSON_READS} reads)`,
      `${ms(json.p50)} / ${ms(json.p99)}, ${mb(first.body.length)} (${report.intervals.length} fleet intervals; per-VEN intervals: ${report.ven_intervals})`,
    ],
    [
      `GET …/report.csv → 302 → presigned S3 GET, p50 / p99 (${CSV_READS} downloads)`,
      `${ms(csv.p50)} / ${ms(csv.p99)}, ${mb(csvFirst.body.length)}, ${int(csvRows)} rows`,
    ],
    [
      'settle (report computed and stored, ledger entries, CSV to S3)',
      `${Math.round(settleSeconds)} s, peak RSS +${mb(settleMemory.rss)}, heap +${mb(settleMemory.heap)}`,
    ],
    [
      'CSV write alone (streamed PutObject)',
      `${ms(writeCsvMs)}, ${mb(csvBytesWritten)}, peak RSS +${mb(writeMemory.rss)}, heap +${mb(writeMemory.heap)}`,
    ],
    [
      'the old route (CSV as the API response)',
      `${mb(oldResponseBytes)} as a Lambda response: ${oldPathFails ? 'over' : 'under'} the 6,291,556-byte limit (${oldPathFails ? 'API Gateway answers 500' : 'served'}); fits up to about ${int(oldPathMaxVens)} VENs`,
    ],
    ['history written', `${Math.round(writeSeconds)} s`],
  ];
  for (const [label, value] of rows) ctx.log(`event-report: ${label}: ${value}`);
  return {
    id: 'event-report',
    title: `Report of a settled ${HOURS} h event over ${int(VENS)} VENs (local stack)`,
    method:
      `The local stack (dynalite in a worker thread, the HTTP front door, the API handler). ${int(VENS)} VENs with a reading every ` +
      `5 minutes over one UTC day written straight into the time-series store, each with a tariff; a ${HOURS} h event over all of ` +
      `them settled once (settlement.ts: the report computed and stored Brotli-compressed beside the event, one ledger entry per ` +
      `VEN, its CSV streamed to the local S3 endpoint); then ${JSON_READS} sequential GET ${path} and ${CSV_READS} GET …/report.csv over ` +
      `HTTP with the viewer token, each following the 302 to the presigned S3 link. Memory: the process's RSS and V8 heap sampled ` +
      `every 20 ms, the peak over the value before (the stack's dynalite runs in a worker thread of this process).`,
    figures: {
      vens: VENS,
      json,
      csv,
      jsonBytes: first.body.length,
      csvBytes: csvFirst.body.length,
      csvRows,
      writeSeconds,
      settleSeconds,
      venIntervals: report.ven_intervals,
      settlePeakRssBytes: settleMemory.rss,
      settlePeakHeapBytes: settleMemory.heap,
      writeCsvMs,
      writeCsvPeakRssBytes: writeMemory.rss,
      writeCsvPeakHeapBytes: writeMemory.heap,
      oldResponseBytes,
      oldPathFails,
      oldPathMaxVens,
    },
    rows,
    goals: [atMost(`24 h event report over ${int(VENS)} VENs, p99 (local)`, json.p99, 100, 'ms')],
    notes: [
      "The JSON report serves each VEN's totals and the fleet's intervals; past 10,000 per-VEN intervals (here 288 × VENs) each VEN's " +
        'intervals are served only in the CSV, written to S3 at settlement and tens of MB: its downloads are fewer.',
      "The history is the event day alone (each VEN's own baselinePowerKw as its baseline): the reads measured do not depend on it.",
    ],
    seconds: (Date.now() - started) / 1000,
  };
}

/** Runs `work`, sampling the process's RSS and heap; the peaks over the values before it. */
async function peakMemory(work: () => Promise<unknown>): Promise<{ rss: number; heap: number }> {
  globalThis.gc?.();
  const before = process.memoryUsage();
  let rss = before.rss;
  let heap = before.heapUsed;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss);
    heap = Math.max(heap, now.heapUsed);
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const after = process.memoryUsage();
  return { rss: Math.max(rss, after.rss) - before.rss, heap: Math.max(heap, after.heapUsed) - before.heapUsed };
}
