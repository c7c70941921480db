// Time-series adapter on Amazon Timestream for LiveAnalytics: multi-measure records, ≤ 100 per WriteRecords,
// rejected records surfaced as RejectedRecordsError. Reads go through the Timestream query API.
import { QueryCommand, type ColumnInfo, type Row, type TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import {
  RejectedRecordsException,
  WriteRecordsCommand,
  type _Record,
  type MeasureValueType,
  type TimestreamWriteClient,
} from '@aws-sdk/client-timestream-write';
import { RejectedRecordsError, ValidationError } from '../contracts/errors.js';
import { decodeToken, encodeToken } from '../common/page-token.js';
import type { MeasureValue, SeriesQuery, SeriesRecord, TelemetryStore } from './telemetry-store.js';
import type { Page } from '../common/page.js';
import { SERIES, type SeriesName } from '../contracts/tables.js';
import { THING_NAME } from '../contracts/topics.js';

export const MAX_RECORDS_PER_WRITE = 100;

export interface TimestreamTelemetryStoreProps {
  readonly writeClient: TimestreamWriteClient;
  /** Absent in the rule Lambdas, which only write. */
  readonly queryClient?: TimestreamQueryClient;
  readonly databaseName: string;
}

export class TimestreamTelemetryStore implements TelemetryStore {
  constructor(private readonly props: TimestreamTelemetryStoreProps) {}

  async write(records: readonly SeriesRecord[]): Promise<void> {
    const rejected: { index: number; reason: string }[] = [];
    for (const series of SERIES) {
      const indexed = records.map((r, index) => ({ r, index })).filter(({ r }) => r.series === series);
      for (let i = 0; i < indexed.length; i += MAX_RECORDS_PER_WRITE) {
        const chunk = indexed.slice(i, i + MAX_RECORDS_PER_WRITE);
        try {
          await this.props.writeClient.send(
            new WriteRecordsCommand({
              DatabaseName: this.props.databaseName,
              TableName: series,
              Records: chunk.map(({ r }) => toTimestreamRecord(r)),
            }),
          );
        } catch (err) {
          if (!(err instanceof RejectedRecordsException)) throw err;
          for (const rr of err.RejectedRecords ?? []) {
            rejected.push({ index: chunk[rr.RecordIndex ?? 0]!.index, reason: rr.Reason ?? 'rejected' });
          }
        }
      }
    }
    if (rejected.length > 0) throw new RejectedRecordsError(rejected);
  }

  /**
   * Newest first, paged by time: the page token is the time of the page's last row and how many rows at that very
   * time were already returned (rows sharing a time are ordered by their dimensions, so the order is stable).
   * Timestream's own NextToken only walks the rows of one query, whose LIMIT would cap every later page.
   */
  async query(q: SeriesQuery): Promise<Page<SeriesRecord>> {
    const { queryClient } = this.props;
    if (!queryClient) throw new Error('this Timestream store was built to write only');
    const cursor = q.next ? timeCursor(q.next) : undefined;
    const deviceDimension = DEVICE_DIMENSION[q.series];
    const until = cursor ? Math.min(cursor.t, Math.trunc(q.end)) : Math.trunc(q.end);
    const skip = cursor?.s ?? 0;
    const where = [
      `${deviceDimension} = ${literal(q.deviceId)}`,
      `time BETWEEN from_milliseconds(${Math.trunc(q.start)}) AND from_milliseconds(${until})`,
      ...(q.where ? [`${identifier(q.where.dimension)} = ${literal(q.where.value)}`] : []),
    ];
    const order = ['time DESC', ...(q.series === 'ven_load_sample' ? ['load_id'] : [])].join(', ');
    const sql = `SELECT * FROM "${this.props.databaseName}"."${q.series}" WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${skip + q.limit + 1}`;
    const rows: SeriesRecord[] = [];
    let token: string | undefined;
    do {
      const res = await queryClient.send(new QueryCommand({ QueryString: sql, NextToken: token }));
      rows.push(...(res.Rows ?? []).map((row) => toSeriesRecord(q, res.ColumnInfo ?? [], row)));
      token = res.NextToken;
    } while (token);
    const items = rows.slice(skip, skip + q.limit);
    const last = items.at(-1);
    if (!last || rows.length <= skip + q.limit) return { items };
    const atLast = items.filter((r) => r.time === last.time).length + (last.time === until ? skip : 0);
    return { items, next: encodeToken({ t: last.time, s: atLast }) };
  }
}

function timeCursor(token: string): { t: number; s: number } {
  const c = decodeToken<{ t?: unknown; s?: unknown }>(token);
  if (Number.isSafeInteger(c.t) && Number.isSafeInteger(c.s) && (c.s as number) >= 0)
    return c as { t: number; s: number };
  throw new ValidationError('next', 'next: not a page token this API issued');
}

function toSeriesRecord(q: SeriesQuery, columns: readonly ColumnInfo[], row: Row): SeriesRecord {
  const record = { series: q.series, deviceId: q.deviceId, time: 0, dimensions: {}, measures: {} } as {
    series: SeriesName;
    deviceId: string;
    time: number;
    dimensions: Record<string, string>;
    measures: Record<string, MeasureValue>;
  };
  row.Data?.forEach((datum, i) => {
    const column = columns[i];
    const value = datum.ScalarValue;
    if (!column?.Name || value === undefined || column.Name === 'measure_name') return;
    if (column.Name === 'time') record.time = Date.parse(`${value.replace(' ', 'T').slice(0, 23)}Z`);
    else if (DIMENSIONS.has(column.Name)) record.dimensions[column.Name] = value;
    else record.measures[column.Name] = fromScalar(value, column.Type?.ScalarType);
  });
  return record;
}

const DIMENSIONS = new Set([
  'ven_id',
  'load_id',
  'node_id',
  'status',
  'asset_id',
  'site_id',
  'gateway_id',
  'asset_type',
  'dc_id',
]);
/** The dimension naming a record's `deviceId`, per series. */
const DEVICE_DIMENSION: Record<SeriesName, string> = {
  ven_telemetry: 'ven_id',
  ven_load_sample: 'ven_id',
  winter_river_status: 'node_id',
  der_asset_sample: 'asset_id',
  edge_telemetry: 'dc_id',
};

export function toTimestreamRecord(r: SeriesRecord): _Record {
  return {
    Dimensions: Object.entries(r.dimensions).map(([Name, Value]) => ({ Name, Value, DimensionValueType: 'VARCHAR' })),
    MeasureName: r.series,
    MeasureValueType: 'MULTI',
    MeasureValues: Object.entries(r.measures).map(([Name, v]) => ({ Name, Value: String(v), Type: measureType(v) })),
    Time: String(r.time),
    TimeUnit: 'MILLISECONDS',
  };
}

function measureType(v: MeasureValue): MeasureValueType {
  if (typeof v === 'number') return 'DOUBLE';
  if (typeof v === 'boolean') return 'BOOLEAN';
  return 'VARCHAR';
}

function fromScalar(value: string, type: string | undefined): MeasureValue {
  if (type === 'DOUBLE' || type === 'BIGINT' || type === 'INTEGER') return Number(value);
  if (type === 'BOOLEAN') return value === 'true';
  return value;
}

/** Device ids and load ids are validated identifiers; anything else cannot reach the SQL. */
function literal(value: string): string {
  if (!THING_NAME.test(value))
    throw new ValidationError('id', `id: ${JSON.stringify(value)} is not a valid identifier`);
  return `'${value}'`;
}

function identifier(name: string): string {
  if (!DIMENSIONS.has(name)) throw new ValidationError('dimension', `dimension: unknown dimension ${name}`);
  return name;
}
