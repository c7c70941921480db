import { TimestreamQueryClient, type QueryCommand } from '@aws-sdk/client-timestream-query';
import {
  RejectedRecordsException,
  TimestreamWriteClient,
  type WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import { describe, expect, it, vi } from 'vitest';
import { RejectedRecordsError, ValidationError } from '../../../lambdas/core/contracts/errors.js';
import { meteringRecords } from '../../../lambdas/core/ingest/ingest.js';
import type { SeriesRecord } from '../../../lambdas/core/timeseries/telemetry-store.js';
import { meteringSchema } from '../../../lambdas/core/contracts/schemas.js';
import { TimestreamTelemetryStore } from '../../../lambdas/core/timeseries/timeseries-timestream.js';
import { fixture } from '../../fixture.js';

// Timestream has no local form: the real SDK clients are used and their `send` is intercepted,
// so these tests assert the exact requests the adapter makes.
function store(
  onWrite: (input: WriteRecordsCommand['input']) => unknown = () => ({}),
  onQuery?: (input: QueryCommand['input']) => unknown,
) {
  const writeClient = new TimestreamWriteClient({ region: 'us-east-1' });
  const queryClient = new TimestreamQueryClient({ region: 'us-east-1' });
  const writes: WriteRecordsCommand['input'][] = [];
  const queries: QueryCommand['input'][] = [];
  vi.spyOn(writeClient, 'send').mockImplementation((async (cmd: { input: WriteRecordsCommand['input'] }) => {
    writes.push(cmd.input);
    return onWrite(cmd.input);
  }) as never);
  vi.spyOn(queryClient, 'send').mockImplementation((async (cmd: { input: QueryCommand['input'] }) => {
    queries.push(cmd.input);
    return onQuery?.(cmd.input);
  }) as never);
  return { store: new TimestreamTelemetryStore({ writeClient, queryClient, databaseName: 'vpp' }), writes, queries };
}

const loadRecord = (i: number): SeriesRecord => ({
  series: 'ven_load_sample',
  deviceId: 'ven-001',
  time: 1729700000000 + i,
  dimensions: { ven_id: 'ven-001', load_id: `circuit_${i}` },
  measures: { currentKw: i },
});

describe('Timestream adapter', () => {
  it('writes the example metering as multi-measure records with the exact dimensions and measure types', async () => {
    const { store: s, writes } = store();
    await s.write(meteringRecords(meteringSchema.parse(fixture('volttron-metering'))));
    expect(writes).toEqual([
      {
        DatabaseName: 'vpp',
        TableName: 'ven_telemetry',
        Records: [
          {
            Dimensions: [{ Name: 'ven_id', Value: 'ven-001', DimensionValueType: 'VARCHAR' }],
            MeasureName: 'ven_telemetry',
            MeasureValueType: 'MULTI',
            MeasureValues: [
              { Name: 'usedPowerKw', Value: '8.2', Type: 'DOUBLE' },
              { Name: 'shedPowerKw', Value: '4.8', Type: 'DOUBLE' },
              { Name: 'requestedReductionKw', Value: '5', Type: 'DOUBLE' },
              { Name: 'baselinePowerKw', Value: '13', Type: 'DOUBLE' },
              { Name: 'batterySOC', Value: '85.5', Type: 'DOUBLE' },
              { Name: 'panelAmperageRating', Value: '200', Type: 'DOUBLE' },
              { Name: 'panelVoltage', Value: '240', Type: 'DOUBLE' },
              { Name: 'panelMaxKw', Value: '48', Type: 'DOUBLE' },
              { Name: 'currentAmps', Value: '34.2', Type: 'DOUBLE' },
              { Name: 'panelUtilizationPercent', Value: '17.1', Type: 'DOUBLE' },
              { Name: 'eventId', Value: 'evt-123', Type: 'VARCHAR' },
            ],
            Time: '1729700000000',
            TimeUnit: 'MILLISECONDS',
          },
        ],
      },
      {
        DatabaseName: 'vpp',
        TableName: 'ven_load_sample',
        Records: [
          {
            Dimensions: [
              { Name: 'ven_id', Value: 'ven-001', DimensionValueType: 'VARCHAR' },
              { Name: 'load_id', Value: 'circuit_1', DimensionValueType: 'VARCHAR' },
            ],
            MeasureName: 'ven_load_sample',
            MeasureValueType: 'MULTI',
            MeasureValues: [
              { Name: 'name', Value: 'Main HVAC', Type: 'VARCHAR' },
              { Name: 'breakerAmps', Value: '30', Type: 'DOUBLE' },
              { Name: 'currentKw', Value: '2.1', Type: 'DOUBLE' },
              { Name: 'currentAmps', Value: '8.75', Type: 'DOUBLE' },
              { Name: 'enabled', Value: 'true', Type: 'BOOLEAN' },
              { Name: 'critical', Value: 'false', Type: 'BOOLEAN' },
              { Name: 'type', Value: 'hvac', Type: 'VARCHAR' },
              { Name: 'capacityKw', Value: '5', Type: 'DOUBLE' },
              { Name: 'currentPowerKw', Value: '2.1', Type: 'DOUBLE' },
              { Name: 'shedCapabilityKw', Value: '5', Type: 'DOUBLE' },
              { Name: 'priority', Value: '2', Type: 'DOUBLE' },
            ],
            Time: '1729700000000',
            TimeUnit: 'MILLISECONDS',
          },
          expect.objectContaining({
            Dimensions: [
              { Name: 'ven_id', Value: 'ven-001', DimensionValueType: 'VARCHAR' },
              { Name: 'load_id', Value: 'circuit_3', DimensionValueType: 'VARCHAR' },
            ],
          }),
        ],
      },
    ]);
  });

  it('batches at most 100 records per WriteRecords, one table per request', async () => {
    const { store: s, writes } = store();
    const telemetry: SeriesRecord = {
      series: 'ven_telemetry',
      deviceId: 'ven-001',
      time: 1,
      dimensions: { ven_id: 'ven-001' },
      measures: { usedPowerKw: 1 },
    };
    await s.write([telemetry, ...Array.from({ length: 250 }, (_, i) => loadRecord(i))]);
    expect(writes.map((w) => [w.TableName, w.Records?.length])).toEqual([
      ['ven_telemetry', 1],
      ['ven_load_sample', 100],
      ['ven_load_sample', 100],
      ['ven_load_sample', 50],
    ]);
    expect(writes[3]!.Records![0]!.Dimensions![1]!.Value).toBe('circuit_200');
  });

  it('reports rejected records with their index in the whole write, after writing the other batches', async () => {
    const { store: s, writes } = store((input) => {
      if (input.Records![0]!.Dimensions![1]!.Value === 'circuit_100') {
        throw new RejectedRecordsException({
          message: 'One or more records have been rejected',
          $metadata: {},
          RejectedRecords: [
            { RecordIndex: 5, Reason: 'The record timestamp is outside the time range of the data ingestion window.' },
          ],
        });
      }
      return {};
    });
    const error = await s.write(Array.from({ length: 250 }, (_, i) => loadRecord(i))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RejectedRecordsError);
    expect((error as RejectedRecordsError).rejected).toEqual([
      { index: 105, reason: 'The record timestamp is outside the time range of the data ingestion window.' },
    ]);
    expect(writes).toHaveLength(3);
  });

  it('queries newest first within the window and maps rows back to records', async () => {
    const { store: s, queries } = store(undefined, () => ({
      ColumnInfo: [
        { Name: 'ven_id', Type: { ScalarType: 'VARCHAR' } },
        { Name: 'load_id', Type: { ScalarType: 'VARCHAR' } },
        { Name: 'measure_name', Type: { ScalarType: 'VARCHAR' } },
        { Name: 'time', Type: { ScalarType: 'TIMESTAMP' } },
        { Name: 'currentKw', Type: { ScalarType: 'DOUBLE' } },
        { Name: 'enabled', Type: { ScalarType: 'BOOLEAN' } },
      ],
      Rows: [
        {
          Data: [
            { ScalarValue: 'ven-001' },
            { ScalarValue: 'circuit_1' },
            { ScalarValue: 'ven_load_sample' },
            { ScalarValue: '2024-10-23 16:13:20.000000000' },
            { ScalarValue: '2.1' },
            { ScalarValue: 'true' },
          ],
        },
      ],
    }));
    const page = await s.query({
      series: 'ven_load_sample',
      deviceId: 'ven-001',
      start: 1729700000000,
      end: 1729786400000,
      limit: 10,
      where: { dimension: 'load_id', value: 'circuit_1' },
    });
    expect(queries).toEqual([
      {
        QueryString:
          'SELECT * FROM "vpp"."ven_load_sample" WHERE ven_id = \'ven-001\' AND time BETWEEN from_milliseconds(1729700000000) AND from_milliseconds(1729786400000) AND load_id = \'circuit_1\' ORDER BY time DESC, load_id LIMIT 11',
        NextToken: undefined,
      },
    ]);
    expect(page).toEqual({
      items: [
        {
          series: 'ven_load_sample',
          deviceId: 'ven-001',
          time: 1729700000000,
          dimensions: { ven_id: 'ven-001', load_id: 'circuit_1' },
          measures: { currentKw: 2.1, enabled: true },
        },
      ],
    });
  });

  it('pages by time past the first page, rows sharing a time included, each row once, in order', async () => {
    // 25 load samples: 5 times x 5 loads, answered as Timestream would answer the SQL the adapter sends
    const rows = Array.from({ length: 25 }, (_, i) => ({
      time: 1729700000000 + Math.floor(i / 5) * 5000,
      load: `circuit_${i % 5}`,
    }));
    const columns = [
      { Name: 'ven_id', Type: { ScalarType: 'VARCHAR' } },
      { Name: 'load_id', Type: { ScalarType: 'VARCHAR' } },
      { Name: 'time', Type: { ScalarType: 'TIMESTAMP' } },
    ];
    const { store: s, queries } = store(undefined, (input) => {
      const [from, to] = [...input.QueryString!.matchAll(/from_milliseconds\((\d+)\)/g)].map((m) => Number(m[1]));
      const limit = Number(/LIMIT (\d+)$/.exec(input.QueryString!)![1]);
      const answer = rows
        .filter((r) => r.time >= from! && r.time <= to!)
        .sort((a, b) => b.time - a.time || a.load.localeCompare(b.load))
        .slice(0, limit)
        .map((r) => ({
          Data: [
            { ScalarValue: 'ven-001' },
            { ScalarValue: r.load },
            { ScalarValue: new Date(r.time).toISOString().replace('T', ' ').replace('Z', '000000') },
          ],
        }));
      // Timestream may split one answer: the adapter must follow its NextToken within the query
      return input.NextToken
        ? { ColumnInfo: columns, Rows: answer.slice(3) }
        : { ColumnInfo: columns, Rows: answer.slice(0, 3), NextToken: 'more' };
    });
    const seen: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const page = await s.query({
        series: 'ven_load_sample',
        deviceId: 'ven-001',
        start: 0,
        end: 1729800000000,
        limit: 7,
        ...(next && { next }),
      });
      seen.push(...page.items.map((r) => `${r.time}/${r.dimensions.load_id}`));
      next = page.next;
      pages++;
    } while (next && pages < 10);
    expect(pages).toBe(4);
    expect(seen).toEqual(
      rows.sort((a, b) => b.time - a.time || a.load.localeCompare(b.load)).map((r) => `${r.time}/${r.load}`),
    );
    expect(queries[2]!.QueryString).toContain(
      `from_milliseconds(${1729700000000 + 15000}) ORDER BY time DESC, load_id LIMIT 10`,
    );
    await expect(
      s.query({ series: 'ven_telemetry', deviceId: 'ven-001', start: 0, end: 1, limit: 1, next: 'bm90IGEgdG9rZW4' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('never puts an unvalidated id into the SQL', async () => {
    const { store: s, queries } = store();
    await expect(
      s.query({ series: 'ven_telemetry', deviceId: "x' OR '1'='1", start: 0, end: 1, limit: 1 }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(queries).toEqual([]);
  });
});
