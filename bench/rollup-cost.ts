// The rollups' share of a VEN-month (bench/cost-model.ts): the pass every 15 minutes puts the VEN's 15-minute row and
// recomputes its hour, day and month from their children; it reads the VEN's 15 minutes of samples and its registry
// entry (the fleet listing), and the rows kept for the archive retention are stored. Late-data markers cost only
// when a device replays old samples (an outage's offline buffer): one PutItem, one Query share and one DeleteItem per
// replayed bucket, left out of the steady state priced here.
import { rollupItem } from '../lambdas/core/analytics/rollups-dynamodb.js';
import { intervalRow } from '../lambdas/core/analytics/rollups.js';

const KB = 1024;
const PASSES = (30 * 86_400) / 900;
/** Rows a VEN has per month, by tier: 2,880 quarter hours, 720 hours, 30 days, 1 month. */
const ROWS_PER_MONTH = 2880 + 720 + 30 + 1;
/** Stated, not measured: the pass's compute per VEN and pass (decode, arithmetic), beside its DynamoDB calls. */
const PASS_MS_PER_VEN = 2;

export interface RollupCostInput {
  readonly prices: { dynamodb: { wru: number; rru: number; storageGbMonth: number }; lambda: { gbSecond: number } };
  /** Bytes of time series stored per sample (what a Query over its 15 minutes reads); 0 on Timestream. */
  readonly timeseriesBytesPerSample: number;
  readonly samplesPer15Min: number;
  readonly registryItemBytes: number;
  readonly archiveRetentionDays: number;
  readonly lambdaGb: number;
  readonly itemSize: (item: Record<string, unknown>) => number;
}

export function rollupCostLine(c: RollupCostInput) {
  const row = intervalRow(Date.UTC(2026, 10, 1), [{ time: 0, kw: 1.234, socPct: 55.5, shedKw: 0.5 }], true);
  const rowBytes = c.itemSize(
    rollupItem('ven-00042', '15m', { ...row, kwSum: 1.2345678901234, importKwh: 0.30864197530864 }, 1_800_000_000),
  );
  const units = (bytes: number) => Math.max(1, Math.ceil(bytes / (4 * KB)));
  const read = (bytes: number) => units(bytes) * 0.5; // eventually consistent
  const consistentRead = (bytes: number) => units(bytes); // the pass reads what it has just put, and the samples
  // 4 puts a pass (15m, 1h, 1d, 1mo: each ≤ 1 KB), the three child queries (4, ≤ 24 and ≤ 31 rows), the samples, the registry
  const wru = PASSES * 4 * Math.ceil(rowBytes / KB);
  const rru =
    PASSES *
    (consistentRead(4 * rowBytes) +
      consistentRead(24 * rowBytes) +
      consistentRead(31 * rowBytes) +
      (c.timeseriesBytesPerSample ? consistentRead(c.samplesPer15Min * c.timeseriesBytesPerSample) : 0) +
      read(c.registryItemBytes));
  const storedGb = (ROWS_PER_MONTH * (rowBytes + 100) * (c.archiveRetentionDays / 30)) / 1e9;
  const lambdaUsd = PASSES * (PASS_MS_PER_VEN / 1000) * c.lambdaGb * c.prices.lambda.gbSecond;
  return {
    item: 'DynamoDB rollups (pass every 15 min)',
    usage:
      `${wru.toLocaleString()} WRU (4 rows of ${rowBytes} B a pass), ${rru.toLocaleString()} RRU (children, ${c.timeseriesBytesPerSample ? '15 min of samples, ' : ''}registry listing), ` +
      `${Math.round(storedGb * 1e6) / 1e3} MB held at steady state (${ROWS_PER_MONTH.toLocaleString()} rows a month kept ${c.archiveRetentionDays} days), Lambda ${PASS_MS_PER_VEN} ms a pass (stated)` +
      `${c.timeseriesBytesPerSample ? '' : '; Timestream queries of the pass not priced'}`,
    usd:
      wru * c.prices.dynamodb.wru +
      rru * c.prices.dynamodb.rru +
      storedGb * c.prices.dynamodb.storageGbMonth +
      lambdaUsd,
  };
}
