// The time-series port (DynamoDB or Timestream): what a store keeps of a sample and how it is read.
import type { SeriesName } from '../contracts/tables.js';
import type { Page, TimeRange } from '../common/page.js';

export type MeasureValue = number | string | boolean;

export interface SeriesRecord {
  readonly series: SeriesName;
  /** ven_id, node_id or (der_asset_sample) asset_id: the device the record belongs to. */
  readonly deviceId: string;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly measures: Readonly<Record<string, MeasureValue>>;
  /** When the store wrote it (epoch ms): only on a query with `withWriteTime`, and only where the store keeps it (DynamoDB). */
  readonly writtenAt?: number;
}

export interface SeriesQuery extends TimeRange {
  readonly series: SeriesName;
  readonly deviceId: string;
  /** Keep only records with this dimension value (e.g. `load_id`). */
  readonly where?: { readonly dimension: string; readonly value: string };
  /** Adds each record's `writtenAt` where the store keeps it (data quality: late and out-of-order samples). */
  readonly withWriteTime?: boolean;
  /** A strongly consistent read where the store has the choice (DynamoDB): every sample stored before it is seen. */
  readonly consistent?: boolean;
}

/**
 * Time-series port (DynamoDB or Timestream). Writes are idempotent per (series, device, time): one write carries
 * every record of a sample (one metering message's), and the first sample of a time is kept: writing it again changes
 * nothing, another sample of that time is not stored (DynamoDB leaves it out, Timestream refuses it).
 */
export interface TelemetryStore {
  write(records: readonly SeriesRecord[]): Promise<void>;
  /** Newest first. */
  query(query: SeriesQuery): Promise<Page<SeriesRecord>>;
}
