// The rules' Lambda handler over a Kinesis batch (lambdas/core/ingest/stream-handler.ts) against real DynamoDB tables
// (dynalite): one time-series write and one heartbeat per VEN per batch, refusals never fail a batch, a batch
// delivered twice is stored once, and a failing store write fails only the records it touched.
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { buildIngestPorts, documentClient } from '../../../lambdas/core/adapters.js';
import { type IngestPorts, type Ports } from '../../../lambdas/core/ingest/ingest-ports.js';
import type { Env } from '../../../lambdas/core/common/config.js';
import type { Rejection } from '../../../lambdas/core/ingest/ingest-ports.js';
import type { SeriesRecord } from '../../../lambdas/core/timeseries/telemetry-store.js';
import type { RuleEvent } from '../../../lambdas/core/contracts/rules.js';
import { streamHandler } from '../../../lambdas/core/ingest/stream-handler.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';
import { topics } from '../../../lambdas/core/contracts/topics.js';
import { fixture } from '../../fixture.js';
import { consistentReads } from '../consistent-reads.js';

let dir: string;
let dynamo: LocalDynamo;
let real: Ports;
/** The same stores, read back consistently: the tests check what the handler stored, not when it shows. */
let stored: IngestPorts;
let db: DynamoDBDocumentClient;
let rejected: Rejection[];
let n = 0;
const env = (): Env => ({
  DEVICES_TABLE: 'devices',
  EVENTS_TABLE: 'events',
  COMMANDS_TABLE: 'commands',
  TIMESERIES_BACKEND: 'dynamodb',
  TIMESERIES_TABLE: 'series',
  RETENTION_DAYS: 30,
  ARCHIVE_RETENTION_DAYS: 730,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-stream-'));
  dynamo = await startDynamo(join(dir, 'db'));
  await ensureTables(dynamo.client, {
    devices: tables.devices,
    events: tables.events,
    commands: tables.commands,
    series: tables.timeseries,
  });
  real = { ...buildIngestPorts(env(), dynamo.client), errors: { reject: async (r) => void rejected.push(r) } };
  const consistent = consistentReads(dynamo.endpoint);
  stored = buildIngestPorts(env(), consistent);
  db = documentClient(consistent);
});
afterAll(async () => {
  db?.destroy();
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  rejected = [];
});

const context = { awsRequestId: 'test' } as Context;
const meteringEvent = (venId: string, timestamp: number, usedPowerKw = 8.2): RuleEvent => ({
  ...fixture('volttron-metering'),
  venId,
  timestamp,
  usedPowerKw,
  iot_topic: topics.metering,
  iot_client_id: venId,
  iot_received_at: timestamp * 1000,
});
/** Kinesis records as the event source mapping delivers them: the rule event as JSON, base64, keyed by device. */
const kinesisEvent = (events: (RuleEvent | string)[]): KinesisStreamEvent => ({
  Records: events.map((e) => {
    const seq = String(++n).padStart(20, '0');
    const data = typeof e === 'string' ? e : JSON.stringify(e);
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: typeof e === 'string' ? 'x' : String(e.iot_client_id),
        sequenceNumber: seq,
        data: Buffer.from(data).toString('base64'),
        approximateArrivalTimestamp: Date.now() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${seq}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
    };
  }),
});
const seqs = (e: KinesisStreamEvent) => e.Records.map((r) => r.kinesis.sequenceNumber);
const scan = async (table: string) =>
  ((await db.send(new ScanCommand({ TableName: table }))).Items ?? []).sort((a, b) =>
    JSON.stringify([a.pk ?? a.deviceId, a.sk]).localeCompare(JSON.stringify([b.pk ?? b.deviceId, b.sk])),
  );
/** Every time-series record stored for the VEN, read back through the store (whatever its item layout). */
const seriesOf = async (venId: string) => {
  const records = [];
  for (const series of ['ven_telemetry', 'ven_load_sample'] as const) {
    records.push(
      ...(
        await stored.telemetry.query({ series, deviceId: venId, start: 1729690000000, end: 1729710000000, limit: 1000 })
      ).items,
    );
  }
  return records;
};

/** The real ports, counting the store calls and failing the writes `fail` picks. */
function spied(fail: (records: readonly SeriesRecord[]) => boolean = () => false) {
  const calls = { writes: [] as number[], heartbeats: [] as [string, number][] };
  const ports: Ports = {
    ...real,
    telemetry: {
      write: async (records) => {
        calls.writes.push(records.length);
        if (fail(records)) throw new Error('ProvisionedThroughputExceededException (test)');
        await real.telemetry.write(records);
      },
      query: (q) => real.telemetry.query(q),
    },
    registry: {
      ...real.registry,
      recordHeartbeat: async (kind, id, at, latest) => {
        calls.heartbeats.push([id, at]);
        await real.registry.recordHeartbeat(kind, id, at, latest);
      },
      recordPresence: (...a) => real.registry.recordPresence(...a),
      get: (id) => real.registry.get(id),
      list: (kind, page) => real.registry.list(kind, page),
    },
  };
  return { ports, calls };
}

describe('the metering stream handler', () => {
  it('stores a batch in one time-series write and one heartbeat per VEN (its newest sample); refusals go to the error sink and fail nothing', async () => {
    const { ports, calls } = spied();
    const event = kinesisEvent([
      meteringEvent('ven-b1', 1729700000),
      meteringEvent('ven-b2', 1729700000),
      meteringEvent('ven-b1', 1729700010, 9.9),
      { ...meteringEvent('ven-b1', 1729700020), iot_client_id: 'ven-b2' }, // ven-b2 speaking for ven-b1
      'not json',
      meteringEvent('ven-b1', 1729700005),
      meteringEvent('ven-b2', 1729700005),
    ]);
    const res = await streamHandler('metering', () => ports)(event, context);
    expect(res).toEqual({ batchItemFailures: [] });
    expect(calls.writes).toEqual([5 * 3]); // 5 accepted messages × (aggregate + 2 circuit samples)
    expect(calls.heartbeats.sort()).toEqual([
      ['ven-b1', 1729700010_000],
      ['ven-b2', 1729700005_000],
    ]);
    expect((await stored.registry.get('ven-b1'))?.latest).toMatchObject({ usedPowerKw: 9.9 });
    expect(await seriesOf('ven-b1')).toHaveLength(9);
    expect(rejected.map((r) => r.reason).sort()).toEqual(['identity-mismatch', 'malformed-json']);
  });

  it('stores a batch delivered twice (a retry, a restart before the checkpoint) once', async () => {
    const event = kinesisEvent([
      meteringEvent('ven-i1', 1729700000),
      meteringEvent('ven-i1', 1729700005),
      meteringEvent('ven-i1', 1729700000),
    ]);
    const handler = streamHandler('metering', () => real);
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    const once = { series: await seriesOf('ven-i1'), device: await stored.registry.get('ven-i1') };
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    expect(await seriesOf('ven-i1')).toEqual(once.series);
    expect(once.series).toHaveLength(6);
    expect(await stored.registry.get('ven-i1')).toEqual(once.device);
  });

  it('fails only the record whose store write fails; delivered again from it, everything is stored', async () => {
    let failing = true;
    const poisoned = 1729700005_000;
    const { ports, calls } = spied((records) => failing && records.some((r) => r.time === poisoned));
    const event = kinesisEvent([
      meteringEvent('ven-p1', 1729700000),
      meteringEvent('ven-p2', 1729700005),
      meteringEvent('ven-p1', 1729700010),
    ]);
    const handler = streamHandler('metering', () => ports);
    const res = await handler(event, context);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seqs(event)[1] }]);
    expect(calls.writes[0]).toBe(9); // the batch write, then each message on its own
    expect(await seriesOf('ven-p1')).toHaveLength(6);
    expect(await seriesOf('ven-p2')).toHaveLength(0);
    expect(rejected).toEqual([]);

    // Kinesis retries from the first failed record on
    failing = false;
    expect(await handler({ Records: event.Records.slice(1) }, context)).toEqual({ batchItemFailures: [] });
    expect(await seriesOf('ven-p2')).toHaveLength(3);
    expect(await seriesOf('ven-p1')).toHaveLength(6);
  });

  it('takes two different samples with the same key in one batch: nothing fails, the first is stored whole, not a mix', async () => {
    const first = meteringEvent('ven-d1', 1729700000, 1.5);
    const second = {
      ...meteringEvent('ven-d1', 1729700000, 7.5),
      circuits: [{ id: 'circuit_9', currentKw: 1, enabled: true }],
      loads: [],
    };
    expect(await streamHandler('metering', () => real)(kinesisEvent([first, second]), context)).toEqual({
      batchItemFailures: [],
    });
    const stored = await seriesOf('ven-d1');
    expect(stored.filter((r) => r.series === 'ven_telemetry').map((r) => r.measures.usedPowerKw)).toEqual([1.5]);
    expect(
      stored
        .filter((r) => r.series === 'ven_load_sample')
        .map((r) => r.dimensions.load_id)
        .sort(),
    ).toEqual(['circuit_1', 'circuit_3']);
    expect(rejected).toEqual([]);
  });

  it('keeps the first reading of a time: a later, different one of the same key (another batch) does not replace it', async () => {
    const handler = streamHandler('metering', () => real);
    await handler(kinesisEvent([meteringEvent('ven-d2', 1729700000, 1.5)]), context);
    expect(await handler(kinesisEvent([meteringEvent('ven-d2', 1729700000, 7.5)]), context)).toEqual({
      batchItemFailures: [],
    });
    const telemetry = (await seriesOf('ven-d2')).filter((r) => r.series === 'ven_telemetry');
    expect(telemetry.map((r) => [r.measures.usedPowerKw, r.measures.source])).toEqual([[1.5, 'mqtt']]);
  });

  it('a message half written (its aggregate stored, its circuits not) fails, and its retry completes it', async () => {
    let failing = true;
    const ports: Ports = {
      ...real,
      telemetry: {
        write: async (records) => {
          if (!failing) return real.telemetry.write(records);
          await real.telemetry.write(records.filter((r) => r.series === 'ven_telemetry'));
          throw new Error('ProvisionedThroughputExceededException (test)');
        },
        query: (q) => real.telemetry.query(q),
      },
    };
    const event = kinesisEvent([meteringEvent('ven-h1', 1729700000)]);
    await expect(streamHandler('metering', () => ports)(event, context)).rejects.toThrow(/All records failed/);
    expect(await seriesOf('ven-h1')).toHaveLength(1);
    failing = false;
    expect(await streamHandler('metering', () => ports)(event, context)).toEqual({ batchItemFailures: [] });
    expect(await seriesOf('ven-h1')).toHaveLength(3);
  });

  it('fails the whole invocation when every record fails, so the mapping retries (and bisects) it', async () => {
    const { ports } = spied(() => true);
    const event = kinesisEvent([meteringEvent('ven-f1', 1729700000), meteringEvent('ven-f2', 1729700000)]);
    await expect(streamHandler('metering', () => ports)(event, context)).rejects.toThrow(/All records failed/);
  });
});

describe('the ACK stream handler', () => {
  const ackEvent = (venId: string, correlationId: string, ts: number): RuleEvent => ({
    ...fixture('volttron-event-ack'),
    correlationId,
    ts,
    iot_topic: topics.ack(venId),
    iot_client_id: venId,
    iot_received_at: ts * 1000,
  });

  it("keeps each device's ACKs in order: after one fails, that device's later ACKs wait for the retry, other devices' do not", async () => {
    const failOn = 'c-a2';
    const events = {
      ...real.events,
      record: async (entry: Parameters<Ports['events']['record']>[0]) => {
        if (entry.ack.correlationId === failOn) throw new Error('throttled (test)');
        return real.events.record(entry);
      },
    };
    const ports: Ports = { ...real, events };
    const event = kinesisEvent([
      ackEvent('ven-a1', 'c-a1', 1729700001),
      ackEvent('ven-a1', 'c-a2', 1729700002),
      ackEvent('ven-b1', 'c-b1', 1729700003),
      ackEvent('ven-a1', 'c-a3', 1729700004),
    ]);
    const res = await streamHandler('ack', () => ports)(event, context);
    const s = seqs(event);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([s[1], s[3]].sort());
    const stored = (await scan('events')).map((i) => i.correlationId ?? i.ack?.correlationId);
    expect(stored).toContain('c-a1');
    expect(stored).toContain('c-b1');
    expect(stored).not.toContain('c-a3');
  });
});
