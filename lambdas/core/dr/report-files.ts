// The event report as a file: written once when the event settles (settlement.ts), then downloaded through a short-lived
// link (`GET /api/events/{eventId}/report.csv`), never through the API's response, which Lambda caps at 6 MB (a 24 h
// event over 1,000 VENs is about 30 MB of CSV). The CSV is made line by line: no whole report string in memory.
import { csvLine as line } from '../common/csv.js';
import type { FleetEventReport } from './fleet-event.js';

/** Where the event reports are kept (an S3 bucket in AWS, the local stack's S3 endpoint locally). */
export interface ReportFiles {
  /** Writes the event's CSV from its lines (produced twice: once to count the bytes, once to send them). */
  put(eventId: string, lines: () => Iterable<string>): Promise<{ bytes: number }>;
  /** A GET link to the event's CSV, valid `expiresInSec`; nothing is read. */
  link(eventId: string, expiresInSec: number): Promise<{ url: string; expiresAt: string }>;
}

/** How long a download link is valid: long enough to start the download, short enough not to be passed around. */
export const REPORT_LINK_SEC = 300;

export const reportKey = (eventId: string) => `events/${eventId}/report.csv`;
export const reportFilename = (eventId: string) => `${eventId.replace(/[^A-Za-z0-9._-]/g, '_')}.csv`;

const HEADER = [
  'scope',
  'venId',
  'interval_start',
  'interval_end',
  'samples',
  'expected_samples',
  'baseline_kw',
  'metered_kw',
  'shed_kw',
  'commitment_kw',
  'pass',
  'result',
  'baseline_method',
  'baseline_days',
  'adjustment_factor',
];

type Interval = FleetEventReport['vens'][number]['intervals'][number];
type ReportWithIntervals = Pick<FleetEventReport, 'intervals'> & {
  readonly vens: readonly Pick<FleetEventReport['vens'][number], 'venId' | 'intervals' | 'baseline'>[];
};

/** The report's CSV, one RFC 4180 line at a time: the fleet's intervals, then each VEN's with the baseline it used. */
export function* reportCsvLines(report: ReportWithIntervals): Generator<string> {
  // reports stored before coverage was kept have no expected_samples nor result: empty cells
  const row = (iv: Interval) => [
    iv.start,
    iv.end,
    iv.samples,
    iv.expected_samples ?? null,
    iv.baseline_kw,
    iv.metered_kw,
    iv.shed_kw,
    iv.commitment_kw,
    iv.pass,
    iv.result ?? null,
  ];
  yield line(HEADER);
  for (const iv of report.intervals) yield line(['fleet', null, ...row(iv as Interval), null, null, null]);
  for (const v of report.vens) {
    const baseline = [v.baseline.method, v.baseline.days.join(' '), v.baseline.adjustment?.factor ?? null];
    for (const iv of v.intervals) yield line(['ven', v.venId, ...row(iv), ...baseline]);
  }
}
