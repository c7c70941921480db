// Property-based (fast-check): every wire message a rule takes — metering (single and batched), ACKs, Winter River
// status, DER site telemetry, presence — generated near its valid shape and mutated, run through the rules' real
// Lambda handler (streamHandler over a Kinesis batch) into real tables (dynalite). Whatever is generated is either
// stored whole and read back equal, or refused with a reason that names a field and nothing of it stored: never a
// failed batch (a crash), never half a message.
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { buildIngestPorts, documentClient } from '../../../lambdas/core/adapters.js';
import { type IngestPorts, type Ports } from '../../../lambdas/core/ingest/ingest-ports.js';
import type { Env } from '../../../lambdas/core/common/config.js';
import { derRecord } from '../../../lambdas/core/ingest/der.js';
import { derGatewayTelemetrySchema } from '../../../lambdas/core/contracts/der-schemas.js';
import { meteringRecords } from '../../../lambdas/core/ingest/ingest.js';
import { DynamoInventoryStore } from '../../../lambdas/core/inventory/inventory-dynamodb.js';
import { loadInventoryFile } from '../../../lambdas/core/inventory/inventory-file.js';
import type { Rejection } from '../../../lambdas/core/ingest/ingest-ports.js';
import type { SeriesRecord } from '../../../lambdas/core/timeseries/telemetry-store.js';
import type { SeriesName } from '../../../lambdas/core/contracts/tables.js';
import { rules, type RuleHandler } from '../../../lambdas/core/contracts/rules.js';
import { meteringSchema, parse, winterRiverStatusSchema } from '../../../lambdas/core/contracts/schemas.js';
import { streamHandler } from '../../../lambdas/core/ingest/stream-handler.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';
import { topics } from '../../../lambdas/core/contracts/topics.js';
import { INVENTORY_FIXTURE } from '../../api/stack.js';
import { fixture } from '../../fixture.js';
import { consistentReads } from '../consistent-reads.js';
import { NAMES_A_FIELD, nearlyValid } from '../../properties.js';

const RUNS = 40;
let dir: string;
let dynamo: LocalDynamo;
let ports: Ports;
/** The same stores, read back consistently: the properties are about what is stored, not when it shows. */
let stored: IngestPorts;
let db: DynamoDBDocumentClient;
let rejected: Rejection[] = [];
const env: Env = {
  DEVICES_TABLE: 'devices',
  EVENTS_TABLE: 'events',
  COMMANDS_TABLE: 'commands',
  TIMESERIES_BACKEND: 'dynamodb',
  TIMESERIES_TABLE: 'series',
  RETENTION_DAYS: 30,
  ARCHIVE_RETENTION_DAYS: 730,
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-props-'));
  dynamo = await startDynamo(join(dir, 'db'));
  await ensureTables(dynamo.client, {
    devices: tables.devices,
    events: tables.events,
    commands: tables.commands,
    series: tables.timeseries,
    inventory: tables.inventory,
  });
  const inventory = new DynamoInventoryStore(documentClient(dynamo.client), 'inventory');
  await loadInventoryFile(INVENTORY_FIXTURE, inventory);
  ports = {
    ...buildIngestPorts(env, dynamo.client),
    inventory,
    errors: { reject: async (r) => void rejected.push(r) },
  };
  const consistent = consistentReads(dynamo.endpoint);
  stored = buildIngestPorts(env, consistent);
  db = documentClient(consistent);
});
afterAll(async () => {
  db?.destroy();
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** A device id no other run uses: what a run stores is all its own. */
const fresh = (prefix: string) => `${prefix}-${++n}`;
const nowSec = () => Math.floor(Date.now() / 1000);

/** One message through the rule's real Lambda handler, as its stream delivers it. */
async function deliver(
  handler: RuleHandler,
  payload: Record<string, unknown>,
  topic: string,
  clientId: string,
  receivedAt = Date.now(),
) {
  rejected = [];
  const data = Buffer.from(
    JSON.stringify({ ...payload, iot_topic: topic, iot_client_id: clientId, iot_received_at: receivedAt }),
  ).toString('base64');
  const event = {
    Records: [
      {
        kinesis: {
          partitionKey: clientId,
          sequenceNumber: String(++n),
          data,
          kinesisSchemaVersion: '1.0',
          approximateArrivalTimestamp: receivedAt / 1000,
        },
        eventID: `s:${n}`,
      },
    ],
  } as KinesisStreamEvent;
  const rule = rules.find((r) => r.handler === handler)!;
  const res = await streamHandler(rule.handler, () => ports)(event, { awsRequestId: 'props' } as Context);
  expect(res.batchItemFailures).toEqual([]); // never a crash, never a retry
  return rejected;
}

/** Refused: one refusal naming a field, for a reason that is the message's, not the store's. */
function expectRefusal(refusals: Rejection[]) {
  expect(refusals).toHaveLength(1);
  expect(['schema', 'identity-mismatch', 'clock-skew', 'unknown-asset']).toContain(refusals[0]!.reason);
  expect(refusals[0]!.message).toMatch(NAMES_A_FIELD);
}

/** Every item any table holds that mentions `device`: nothing at all, for a refused message. */
async function anythingOf(device: string): Promise<unknown[]> {
  const doc = db;
  const found: unknown[] = [];
  for (const TableName of ['series', 'devices', 'events', 'commands']) {
    const { Items = [] } = await doc.send(new ScanCommand({ TableName }));
    found.push(
      ...Items.filter((i) => JSON.stringify(i).includes(`"${device}`) || JSON.stringify(i).includes(`#${device}#`)),
    );
  }
  return found;
}

const read = async (series: SeriesName, deviceId: string, time: number) =>
  (await stored.telemetry.query({ series, deviceId, start: time, end: time, limit: 1000 })).items;
const byLoad = (records: SeriesRecord[]) =>
  [...records].sort((a, b) => String(a.dimensions.load_id).localeCompare(String(b.dimensions.load_id)));

/** A valid reading in range: what the generated part of a valid message varies. */
const reading = fc.record({
  age: fc.integer({ min: 0, max: 3 * 24 * 3600 }),
  // valid values (in milli-units: the edge values come from the mutations)
  kw: fc.integer({ min: 0, max: 1_000_000_000 }).map((n) => n / 1000),
  soc: fc.integer({ min: 0, max: 100_000 }).map((n) => n / 1000),
  mw: fc.integer({ min: -10_000_000, max: 10_000_000 }).map((n) => n / 1000),
});
type Reading = typeof reading extends fc.Arbitrary<infer T> ? T : never;
const VEN = 'ven-prop';

describe('property: every wire message is stored whole or refused naming a field', () => {
  it('metering (VOLTTRON VEN)', async () => {
    const meteringDoc = (r: Reading) => ({
      ...fixture('volttron-metering'),
      venId: VEN,
      timestamp: nowSec() - r.age,
      usedPowerKw: r.kw,
      batterySOC: r.soc,
    });
    await fc.assert(
      fc.asyncProperty(nearlyValid(reading, meteringDoc), async ({ doc }) => {
        const venId = fresh('ven-m');
        if (doc.venId === VEN) doc.venId = venId;
        const refusals = await deliver('metering', doc, topics.metering, venId);
        const parsed = parse(meteringSchema, doc);
        if (refusals.length > 0) {
          expectRefusal(refusals);
          expect(await anythingOf(venId)).toEqual([]);
          return;
        }
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const [aggregate, ...loads] = meteringRecords(parsed.value, 'mqtt');
        expect(await read('ven_telemetry', venId, aggregate!.time)).toEqual([aggregate]);
        expect(byLoad(await read('ven_load_sample', venId, aggregate!.time))).toEqual(byLoad(loads));
      }),
      { numRuns: RUNS },
    );
  });

  it('batched metering', async () => {
    const batchDoc = (r: Reading) => {
      const sample = (i: number) => ({
        ...fixture('volttron-metering'),
        venId: VEN,
        timestamp: nowSec() - r.age - i * 5,
        usedPowerKw: r.kw / (i + 1),
      });
      return { venId: VEN, batch: [sample(0), sample(1), sample(2)] };
    };
    await fc.assert(
      fc.asyncProperty(nearlyValid(reading, batchDoc), async ({ doc }) => {
        const venId = fresh('ven-b');
        const text = JSON.stringify(doc).replaceAll(`"${VEN}"`, `"${venId}"`);
        const refusals = await deliver('metering', JSON.parse(text) as Record<string, unknown>, topics.metering, venId);
        if (refusals.length > 0) {
          expectRefusal(refusals);
          expect(await anythingOf(venId)).toEqual([]);
          return;
        }
        const batch = (JSON.parse(text) as { batch: unknown[] }).batch;
        // the first sample of a time is kept: a batch that repeats a time stores it once
        const kept = new Map<number, SeriesRecord>();
        for (const s of batch) {
          const parsed = parse(meteringSchema, s);
          expect(parsed.ok).toBe(true);
          if (!parsed.ok) return;
          const aggregate = meteringRecords(parsed.value, 'mqtt')[0]!;
          if (!kept.has(aggregate.time)) kept.set(aggregate.time, aggregate);
        }
        for (const [time, aggregate] of kept) expect(await read('ven_telemetry', venId, time)).toEqual([aggregate]);
      }),
      { numRuns: RUNS },
    );
  });

  it('Winter River status', async () => {
    const statusDoc = (r: Reading) => ({
      ...fixture('winter-river-status'),
      node_id: 'node-prop',
      power_kw: r.kw,
      uptime: r.age,
    });
    await fc.assert(
      fc.asyncProperty(nearlyValid(reading, statusDoc), async ({ doc }) => {
        const nodeId = fresh('node');
        if (doc.node_id === 'node-prop') doc.node_id = nodeId;
        const at = Date.now();
        const refusals = await deliver('winter-river', doc, topics.winterRiverStatus(nodeId), nodeId, at);
        if (refusals.length > 0) {
          expectRefusal(refusals);
          expect(await anythingOf(nodeId)).toEqual([]);
          return;
        }
        const parsed = parse(winterRiverStatusSchema, doc);
        expect(parsed.ok).toBe(true);
        const numbers = Object.fromEntries(Object.entries(doc).filter(([, v]) => typeof v === 'number'));
        expect(await read('winter_river_status', nodeId, at)).toEqual([
          {
            series: 'winter_river_status',
            deviceId: nodeId,
            time: at,
            dimensions: { node_id: nodeId, status: doc.status },
            measures: numbers,
          },
        ]);
      }),
      { numRuns: RUNS },
    );
  });

  it('DER site telemetry (DER gateway)', async () => {
    let t = nowSec() - 4 * 24 * 3600;
    const asset = (id: string, r: Reading) => ({
      asset_id: id,
      site_id: 'site-a',
      asset_type: 'bess',
      mw: r.mw / 4,
      online: true,
      soc_pct: r.soc,
      status: 'ok',
    });
    const siteDoc = (r: Reading) => ({
      gatewayId: 'gw-a',
      site_id: 'site-a',
      timestamp: ++t,
      mw: r.mw,
      mw_setpoint: 0,
      assets: [asset('a-bess-1', r), asset('a-bess-2', r)],
    });
    await fc.assert(
      fc.asyncProperty(nearlyValid(reading, siteDoc), async ({ doc }) => {
        const before = await anythingOfTime(doc.timestamp);
        const refusals = await deliver('der', doc, topics.derTelemetry('gw-a'), 'gw-a');
        if (refusals.length > 0) {
          expectRefusal(refusals);
          expect(await anythingOfTime(doc.timestamp)).toEqual(before);
          return;
        }
        const parsed = parse(derGatewayTelemetrySchema, doc);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        for (const a of parsed.value.assets) {
          const time = (a.timestamp ?? parsed.value.timestamp) * 1000;
          const stored = await read('der_asset_sample', a.asset_id, time);
          expect(stored).toContainEqual(derRecord(a, 'gw-a', 'bess', time));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('ACKs and presence events: stored or refused naming a field, never a failed batch', async () => {
    const ackDoc = (r: Reading) => ({
      ...fixture('volttron-event-ack'),
      ts: nowSec() - r.age,
      actual_shed_kw: r.kw,
      correlationId: 'c-prop',
    });
    await fc.assert(
      fc.asyncProperty(nearlyValid(reading, ackDoc), async ({ doc }) => {
        const venId = fresh('ven-a');
        const refusals = await deliver('ack', doc, topics.ack(venId), venId);
        if (refusals.length > 0) {
          expectRefusal(refusals);
          expect(await anythingOf(venId)).toEqual([]);
          return;
        }
        const history = await stored.events.list(venId, { start: 0, end: Date.now() + 1e10, limit: 10 });
        expect(history.items.map((a) => a.ack)).toEqual(
          doc.op === 'ping' ? [] : [expect.objectContaining({ correlationId: doc.correlationId, ts: doc.ts })],
        );
      }),
      { numRuns: RUNS },
    );
    const presenceDoc = (r: Reading) => ({
      clientId: 'ven-presence',
      timestamp: Date.now() - r.age,
      eventType: 'connected',
      sessionIdentifier: 's',
      principalIdentifier: 'p',
      versionNumber: 1,
    });
    await fc.assert(
      fc.asyncProperty(nearlyValid(reading, presenceDoc), async ({ doc }) => {
        const refusals = await deliver('presence', doc, topics.presence('connected', 'ven-presence'), '');
        if (refusals.length > 0) expectRefusal(refusals);
      }),
      { numRuns: RUNS },
    );
  });
});

/** Time-series items of any DER asset at `timestamp` (seconds): what a refused site document must not add to. */
async function anythingOfTime(timestamp: unknown): Promise<unknown[]> {
  // a time the schema could accept (epoch seconds 1e9 to 1e10): what else could have been stored at all
  if (typeof timestamp !== 'number' || !(timestamp >= 1e9 && timestamp <= 1e10)) return [];
  const items: unknown[] = [];
  for (const assetId of ['a-bess-1', 'a-bess-2'])
    items.push(...(await read('der_asset_sample', assetId, timestamp * 1000).catch(() => [])));
  return items;
}
