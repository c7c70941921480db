// 6. Cost and capacity model: $ per VEN-month at 5 s telemetry on AWS (us-east-1 list prices), line by line, for the
// agent's economy profile and the VOLTTRON VEN exactly, on each time-series store, at 1k / 10k / 100k VENs; and, for every quota
// and partition limit on the ingest path, the fleet size at which it binds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { ensureTables, startDynamo } from '../bin/local/aws/dynamodb.js';
import { PanelModel, defaultPanel } from '../device/panel.js';
import { rngFor } from '../device/random.js';
import { MEMORY_STORE_HOURS } from '../lib/storage.js';
import { buildIngestPorts } from '../lambdas/core/adapters.js';
import {
  acceptMetering,
  ingestMeteringMessage,
  meteringRecords,
  storeMetering,
  type AcceptedMetering,
} from '../lambdas/core/ingest/ingest.js';
import type { IngestPorts } from '../lambdas/core/ingest/ingest-ports.js';
import type { SeriesRecord } from '../lambdas/core/timeseries/telemetry-store.js';
import { meteringSchema, type Metering } from '../lambdas/core/contracts/schemas.js';
import { DEFAULT_FLEET_SIZE, rules, shardsFor, VENS_PER_METERING_SHARD } from '../lambdas/core/contracts/rules.js';
import { tables } from '../lambdas/core/contracts/tables.js';
import { timeSeriesWrites } from '../lambdas/core/timeseries/timeseries-dynamodb.js';
import { toTimestreamRecord } from '../lambdas/core/timeseries/timeseries-timestream.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import { PROFILES } from '../device/profile.js';
import { shadowChange } from '../device/shadow-change.js';
import type { BenchContext } from './harness.js';
import { rollupCostLine } from './rollup-cost.js';
import { ROOT } from './harness.js';
import { atLeast, atMost, median, round, usd, type BenchResult } from './stats.js';

/**
 * us-east-1 list prices, on-demand, without free tiers. Taken on the date below from stored copies of AWS's pricing
 * pages through the project's search tool (it has no live pricing): IoT Core's page gives its rates in its worked
 * example ($0.08 per million connection minutes, $1.00 per million messages, $1.25 per million shadow/registry
 * operations); DynamoDB on-demand after the November 2024 reduction ($0.625 per million write units, $0.125 per
 * million read units) as quoted by airbyte.com (July 2025); Timestream for LiveAnalytics from its pricing page
 * (writes $0.50 per million 1 KiB, memory store $0.036 per GB-hour, magnetic $0.03 per GB-month). The rules engine
 * ($0.15 per million rules triggered and per million actions), Lambda arm64 ($0.20 per million requests, $0.0000133334
 * per GB-second), DynamoDB storage ($0.25 per GB-month) and API Gateway HTTP APIs ($1.00 per million) are AWS's
 * published list prices as generally quoted; the stored pages did not render them.
 * Kinesis Data Streams, provisioned mode: the stored pricing pages (aws.amazon.com/kinesis/data-streams/pricing,
 * searched 2026-11-24) confirm the billing units (shard-hour; PUT payload units of 25 KB per record, a 5 KB record is
 * one unit, a 45 KB record two; 1 MB/s or 1,000 records/s in per shard; reads by a standard consumer not charged) but
 * do not render the dollar figures: $0.015 per shard-hour and $0.014 per million PUT payload units are the us-east-1
 * list prices as generally quoted, UNVERIFIED here. Retention is the included 24 h (lib/ingest.ts), so no extended
 * retention charge. Check the live pages before quoting.
 */
export const PRICES = {
  takenOn: '2026-11-23',
  kinesisTakenOn: '2026-11-24 (units verified, dollar figures unverified)',
  iot: { connectionMinute: 0.08e-6, message: 1.0e-6, shadowOp: 1.25e-6, ruleTriggered: 0.15e-6, action: 0.15e-6 },
  kinesis: { shardHour: 0.015, putPayloadUnit: 0.014e-6 },
  lambda: { request: 0.2e-6, gbSecond: 0.0000133334 },
  dynamodb: { wru: 0.625e-6, rru: 0.125e-6, storageGbMonth: 0.25 },
  timestream: { write1KiB: 0.5e-6, memoryGbHour: 0.036, magneticGbMonth: 0.03 },
  apiGateway: { request: 1.0e-6 },
} as const;

/**
 * Default quotas and limits on the ingest path. Kinesis per shard (1 MB/s or 1,000 records/s in) and the event source
 * mapping's ParallelizationFactor (1–10) are confirmed by the stored AWS pages (Kinesis pricing page; Lambda's Kinesis
 * parameters page); 100 publishes/s per connection by AWS re:Post answers citing the IoT Core quotas page. The IoT Core
 * account rates (connect 500/s, inbound publish 20,000/s, rules engine 20,000 inbound messages/s, us-east-1), Lambda's
 * 1,000 concurrent executions per Region, Kinesis' 500 shards per Region (us-east-1) and DynamoDB's 1,000 write
 * units/s per partition are AWS's published defaults as generally quoted: the stored quota pages were found
 * (docs.aws.amazon.com/general/latest/gr/iot-core.html) but their tables did not render, so they are UNVERIFIED here.
 * Every account quota here is adjustable through Service Quotas; the per-shard, per-partition and per-connection
 * limits are not (more shards or partitions are the answer).
 */
export const QUOTAS = {
  iotConnectsPerSec: 500,
  iotInboundPublishPerSec: 20_000,
  iotRulesInboundPerSec: 20_000,
  iotPublishPerConnectionPerSec: 100,
  iotConnections: 500_000,
  kinesisShardBytesPerSec: 1_000_000,
  kinesisShardRecordsPerSec: 1_000,
  kinesisShardsPerRegion: 500,
  lambdaConcurrency: 1_000,
  dynamoPartitionWruPerSec: 1_000,
} as const;

const MONTH_SEC = 30 * 86_400;
const INTERVAL_SEC = 5;
const SAMPLES_PER_MONTH = MONTH_SEC / INTERVAL_SEC;
const RETENTION_DAYS = 30;
const LAMBDA_GB = 0.5; // lib/handler-function.ts memorySize 512
const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Fleet sizes priced; the goals are judged at the reference fleet. */
const FLEETS = [1_000, 10_000, 100_000] as const;
const REFERENCE_FLEET = 10_000;
/** One operator, dashboard open 8 h a day, per this many VENs. */
const VENS_PER_OPERATOR = 1000;
/** Lambda does not publish an environment's lifetime; a few hours is what is commonly observed. */
const ENVIRONMENT_LIFETIME_H = 2;
/** Hours of demand-response events a VEN takes part in per month (during one, the economy agent sends every sample at once). */
const EVENT_HOURS_PER_MONTH = 10;
/** Shards are sized to run at most this full. */
const SHARD_HEADROOM = 0.8;
/** Stated, not measured: Powertools/middy and the batch response per invocation, beside the measured store time. */
const INVOCATION_OVERHEAD_MS = 5;
const STREAMS = rules.length;
const METERING_RULE_DEF = rules.find((r) => r.handler === 'metering')!;
const METERING_STREAM = METERING_RULE_DEF.stream;
/** The fleet the capacity goal is judged at, deployed as `-c fleetSize=100000`. */
const CAPACITY_FLEET = 100_000;
/** Templates DynamoTelemetryStore remembers per Lambda environment (read from its source: it is not exported). */
const TEMPLATE_CACHE = Number(
  /const WRITTEN_KEYS = ([\d_]+)/
    .exec(readFileSync(join(ROOT, 'lambdas/core/timeseries/timeseries-dynamodb.ts'), 'utf8'))?.[1]
    ?.replaceAll('_', '') ?? 10_000,
);

const KB = 1024;
const units = (bytes: number, unit: number) => Math.max(1, Math.ceil(bytes / unit));
const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Timestream's metered size of the records in one WriteRecords request; a repeated dimension is charged once. */
export function timestreamWriteBytes(records: readonly SeriesRecord[]): number {
  const seen = new Set<string>();
  let bytes = 0;
  for (const r of records) {
    const t = toTimestreamRecord(r);
    bytes += 8 + utf8(t.MeasureName ?? '');
    for (const d of t.Dimensions ?? []) {
      const key = `${d.Name}=${d.Value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      bytes += utf8(d.Name ?? '') + utf8(d.Value ?? '');
    }
    for (const m of t.MeasureValues ?? []) {
      bytes += utf8(m.Name ?? '') + (m.Type === 'BOOLEAN' ? 1 : m.Type === 'VARCHAR' ? utf8(m.Value ?? '') : 8);
    }
  }
  return bytes;
}

/** Timestream's stored size (memory and magnetic): every record whole, dimensions included. */
const timestreamStoredBytes = (records: readonly SeriesRecord[]) =>
  records.reduce((s, r) => s + timestreamWriteBytes([r]), 0);

/** DynamoDB's item size: attribute names plus values (numbers ≈ 1 byte per 2 significant digits + 1; maps and lists 3 + 1 per element). */
export function dynamoSize(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'boolean') return 1;
  if (value instanceof Uint8Array) return value.length;
  if (typeof value === 'number')
    return (
      Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').replace(/^0+/, '').replace(/e.*$/, '').length / 2) + 1
    );
  if (Array.isArray(value)) return 3 + value.reduce((s: number, v) => s + 1 + dynamoSize(v), 0);
  return 3 + Object.entries(value as Record<string, unknown>).reduce((s, [k, v]) => s + 1 + utf8(k) + dynamoSize(v), 0);
}
const itemSize = (item: Record<string, unknown>) =>
  Object.entries(item).reduce((s, [k, v]) => s + utf8(k) + dynamoSize(v), 0);

/**
 * The DynamoDB time series as DynamoTelemetryStore writes it, `batch` samples per write: one PutItem per device and
 * write, billed on its own size. Per sample: write units, bytes held (+100 B per item), and the bytes a `/telemetry`
 * page reads (the whole item: a device's series share it). The templates are priced apart (templateCost).
 */
function dynamoTimeSeries(samples: readonly SeriesRecord[][], batch: number) {
  let wru = 0;
  let stored = 0;
  let count = 0;
  let written = 0;
  for (let i = 0; i + batch <= samples.length; i += batch, written += batch) {
    for (const item of timeSeriesWrites(samples.slice(i, i + batch).flat(), RETENTION_DAYS).items) {
      const size = itemSize(item as unknown as Record<string, unknown>);
      wru += units(size, KB);
      stored += size + 100;
      count++;
    }
  }
  return {
    wruPerSample: wru / written,
    storedPerSample: stored / written,
    itemsPerSample: count / written,
    telemetryBytesPerSample: stored / written,
  };
}

type Profile = 'economy' | 'volttron';
type Store = 'dynamodb' | 'timestream';

interface Path {
  readonly name: string;
  readonly profile: Profile;
  readonly store: Store;
}

const PATHS: Path[] = [
  { name: 'economy profile (agent default), DynamoDB (stack default)', profile: 'economy', store: 'dynamodb' },
  { name: 'volttron profile, DynamoDB', profile: 'volttron', store: 'dynamodb' },
  { name: 'economy profile, Timestream', profile: 'economy', store: 'timestream' },
  { name: 'volttron profile, Timestream', profile: 'volttron', store: 'timestream' },
];

/** Lines the device's own traffic causes (messaging, shadow, connection); every other line is platform-controlled. */
const DEVICE_SIDE = new Set([
  'IoT connectivity',
  'IoT messaging: metering',
  'IoT messaging: telemetry copy',
  'IoT messaging: shadow updates',
  'Device shadow operations',
]);

/** The agent's own payloads over a simulated hour (its default 8-circuit panel, with a DR event part of the time). */
function samplePayloads() {
  const panel = new PanelModel(defaultPanel, rngFor('ven-00042'));
  const metering: Metering[] = [];
  const shadows: number[] = [];
  const t0 = 1729700000000;
  for (let i = 0; i < 720; i++) {
    if (i === 300)
      panel.startEvent(
        { op: 'event', event_id: 'evt-bench', shed_kw: 5, duration_sec: 1800, correlationId: 'c-bench' },
        t0 + i * 5000,
      );
    panel.step();
    metering.push(meteringSchema.parse(panel.metering('ven-00042', t0 + i * 5000)));
    if (i % 6 === 0) shadows.push(utf8(JSON.stringify(panel.shadowReported(t0 + i * 5000, INTERVAL_SEC))));
  }
  return { metering, shadowBytes: shadows.reduce((s, v) => s + v, 0) / shadows.length };
}

/**
 * The economy agent's shadow reports over a simulated day, with VenDevice's logic: checked with every 5 s sample
 * (device/shadow-change.ts), sent on a change or when the 300 s heartbeat is due, plus one report on an event's start
 * and one on its end (VenDevice.handleCommand, endEvent). One 1 h event in the day; per hour, outside and inside it.
 */
function economyShadows(): { perHour: number; perEventHour: number } {
  const panel = new PanelModel(defaultPanel, rngFor('ven-00077'));
  const heartbeatMs = PROFILES.economy.shadowMs;
  const t0 = 1729700000000;
  const eventFrom = 12 * 720;
  const eventTo = eventFrom + 720;
  let last: { reported: ReturnType<PanelModel['shadowReported']>['state']['reported']; at: number } | undefined;
  let normal = 0;
  let inEvent = 0;
  const send = (t: number, during: boolean) => {
    last = { reported: panel.shadowReported(t, INTERVAL_SEC).state.reported, at: t };
    if (during) inEvent++;
    else normal++;
  };
  for (let i = 0; i < 24 * 720; i++) {
    const t = t0 + i * INTERVAL_SEC * 1000;
    const during = i >= eventFrom && i < eventTo;
    if (i === eventFrom) {
      panel.startEvent({ op: 'event', event_id: 'evt-day', shed_kw: 5, duration_sec: 3600, correlationId: 'c-day' }, t);
      send(t, true);
    }
    if (i === eventTo) {
      panel.restore('c-day', t);
      send(t, true);
    }
    panel.step();
    const doc = panel.shadowReported(t, INTERVAL_SEC).state.reported;
    if (!last || t - last.at >= heartbeatMs || shadowChange(last.reported, doc)) send(t, during);
  }
  return { perHour: normal / 23, perEventHour: inEvent };
}

/** Median time of storeMetering over local DynamoDB, per message, for a Kinesis batch: 20 VENs, each with a minute of messages (volttron: 12, economy: one batch). */
async function perRecordMs(metering: Metering[]): Promise<{ volttron: number; economy: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'vpp-cost-'));
  const dynamo = await startDynamo(join(dir, 'db'));
  try {
    await ensureTables(dynamo.client, Object.fromEntries(Object.entries(tables).map(([t, d]) => [`vpp-${t}`, d])));
    const ports: IngestPorts = buildIngestPorts(
      {
        DEVICES_TABLE: 'vpp-devices',
        EVENTS_TABLE: 'vpp-events',
        COMMANDS_TABLE: 'vpp-commands',
        TIMESERIES_BACKEND: 'dynamodb',
        TIMESERIES_TABLE: 'vpp-timeseries',
        RETENTION_DAYS,
        ARCHIVE_RETENTION_DAYS: 730,
      },
      dynamo.client,
    );
    const as = (m: Metering, venId: string) => ({ ...m, venId });
    const run = async (
      vens: number,
      rounds: number,
      payload: (ven: string, round: number) => Record<string, unknown>,
      perVen = 1,
    ) => {
      const times: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t = performance.now();
        const accepted: AcceptedMetering[] = [];
        for (let i = 0; i < vens * perVen; i++) {
          const venId = `ven-${String(i % vens).padStart(5, '0')}`;
          const message = payload(venId, r * perVen + Math.floor(i / vens));
          // received when its newest sample was taken, as a device with a good clock
          const receivedAt =
            Math.max(
              ...('batch' in message ? (message.batch as Metering[]) : [message as unknown as Metering]).map(
                (m) => m.timestamp,
              ),
            ) * 1000;
          const a = acceptMetering({ payload: message, topic: topics.metering, clientId: venId, receivedAt });
          if (!a.ok) throw new Error(a.message);
          accepted.push(a.value);
        }
        await storeMetering(accepted, ports);
        times.push((performance.now() - t) / accepted.length);
      }
      return median(times.slice(2));
    };
    // volttron: a lane's minute, each VEN's 12 messages in the batch
    const volttron = await run(20, 8, (ven, i) => as(metering[i]!, ven) as unknown as Record<string, unknown>, 12);
    const economy = await run(20, 8, (ven, r) => ({
      venId: ven,
      batch: metering.slice(12 * (r + 20), 12 * (r + 21)).map((m) => as(m, ven)),
    }));
    return { volttron, economy };
  } finally {
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The share of writes that put their templates again: DynamoTelemetryStore's rule (remember each template key written;
 * forget the oldest when TEMPLATE_CACHE are held) run for `fleet` VENs each sending `rounds` messages of `keys` templates, every
 * message to one of `environments` Lambda environments at random (the service promises no affinity), the first half
 * of the rounds as warm-up.
 */
function templateMissRate(fleet: number, environments: number, keys: number, rounds = 24): number {
  if (fleet * keys <= TEMPLATE_CACHE) return 0;
  const rng = rngFor(`templates-${fleet}`);
  const caches = Array.from({ length: environments }, () => new Set<number>());
  let misses = 0;
  let counted = 0;
  for (let r = 0; r < rounds; r++) {
    for (let v = 0; v < fleet; v++) {
      const cache = caches[Math.floor(rng() * environments)]!;
      const missed = !cache.has(v * keys);
      if (missed) {
        for (let k = 0; k < keys; k++) {
          if (cache.size >= TEMPLATE_CACHE) cache.delete(cache.values().next().value!);
          cache.add(v * keys + k);
        }
      }
      if (r >= rounds / 2) {
        counted++;
        if (missed) misses++;
      }
    }
  }
  return misses / counted;
}

interface Line {
  readonly item: string;
  readonly usage: string;
  readonly usd: number;
}

interface ProfileTraffic {
  /** Metering messages per VEN-month (economy: batches, and single samples during events). */
  readonly messages: number;
  /** Samples per message, on average. */
  readonly samplesPerMessage: number;
  /** Bytes of one metering payload as published. */
  readonly payloadBytes: number;
  /** Bytes of the Kinesis record the rule puts (the payload plus the rule's metadata keys). */
  readonly recordBytes: number;
  readonly topic: string;
  readonly shadowUpdates: number;
  readonly telemetryCopy: boolean;
  readonly basicIngest: boolean;
  /** Measured store time per message in a Kinesis batch, ms. */
  readonly perRecordMs: number;
}

/**
 * Invocations per second of the metering Lambda for a fleet record rate: each shard's records go to
 * `parallelization` lanes (by partition key); a lane invokes when it holds `batchSize` records or its batching window
 * has passed with at least one record. Every lane is assumed active (the most invocations; Lambda may use fewer).
 */
function invocationsPerSec(recordsPerSec: number, shards: number, recordBytes: number) {
  const { maxBatchingWindowSec: window, parallelization } = METERING_STREAM;
  // Lambda's 6 MB invocation payload caps a batch too: records are base64 in the event, with ~200 B of metadata each
  const batchSize = Math.min(
    METERING_STREAM.batchSize,
    Math.floor(LAMBDA_PAYLOAD_BYTES / ((recordBytes * 4) / 3 + 200)),
  );
  const lanes = shards * parallelization;
  const perLane = recordsPerSec / lanes;
  if (perLane * window >= batchSize)
    return { perSec: recordsPerSec / batchSize, lanes, recordsPerBatch: batchSize, batchSec: batchSize / perLane };
  const perSec = (lanes * (1 - Math.exp(-perLane * window))) / window;
  return { perSec, lanes, recordsPerBatch: recordsPerSec / perSec, batchSec: window };
}

/**
 * The metering stream of a fleet deployed with `-c fleetSize=<fleet>`: the shards the stack gives it (shardsFor), the
 * shards the measured records need at SHARD_HEADROOM, and the VENs one shard carries at that headroom.
 */
function shardsNeeded(fleet: number, t: ProfileTraffic) {
  const recordsPerSec = (fleet * t.messages) / MONTH_SEC;
  const bytesPerSec = recordsPerSec * t.recordBytes;
  return {
    recordsPerSec,
    bytesPerSec,
    shards: shardsFor(METERING_RULE_DEF, fleet),
    needed: Math.max(
      1,
      Math.ceil(
        Math.max(recordsPerSec / QUOTAS.kinesisShardRecordsPerSec, bytesPerSec / QUOTAS.kinesisShardBytesPerSec) /
          SHARD_HEADROOM,
      ),
    ),
    vensPerShard: Math.floor(
      SHARD_HEADROOM *
        Math.min(
          QUOTAS.kinesisShardRecordsPerSec / t.messages,
          QUOTAS.kinesisShardBytesPerSec / (t.messages * t.recordBytes),
        ) *
        MONTH_SEC,
    ),
  };
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const { metering, shadowBytes } = samplePayloads();
  const meteringBytes = metering.reduce((s, m) => s + utf8(JSON.stringify(m)), 0) / metering.length;
  const batchBytes = utf8(
    JSON.stringify({ venId: 'ven-00042', batch: metering.slice(0, PROFILES.economy.meteringBatch) }),
  );
  const meta = { iot_topic: topics.metering, iot_client_id: 'ven-00042', iot_received_at: 1729700000000 };
  const recordOf = (payload: object) => utf8(JSON.stringify({ ...payload, ...meta }));
  const volttronRecordBytes = metering.reduce((s, m) => s + recordOf(m), 0) / metering.length;
  const batchRecordBytes = recordOf({ venId: 'ven-00042', batch: metering.slice(0, PROFILES.economy.meteringBatch) });
  const records = metering.map((m) => meteringRecords(m));
  const avg = (f: (r: SeriesRecord[]) => number) => records.reduce((s, r) => s + f(r), 0) / records.length;
  const recordsPerSample = avg((r) => r.length);
  const BATCH = PROFILES.economy.meteringBatch;
  // Timestream: one WriteRecords per table and message.
  const tsWritesSingle = avg((r) =>
    SERIES.reduce((s, series) => s + units(timestreamWriteBytes(r.filter((x) => x.series === series)), KB), 0),
  );
  let tsBatchTotal = 0;
  let tsBatchN = 0;
  for (let i = 0; i + BATCH <= records.length; i += BATCH, tsBatchN++) {
    const all = records.slice(i, i + BATCH).flat();
    tsBatchTotal += SERIES.reduce(
      (s, series) => s + units(timestreamWriteBytes(all.filter((x) => x.series === series)), KB),
      0,
    );
  }
  const tsWritesBatch = tsBatchTotal / tsBatchN;
  const tsStoredPerSample = avg((r) => timestreamStoredBytes(r));
  const ddbSingle = dynamoTimeSeries(records, 1);
  const ddbBatch = dynamoTimeSeries(records, BATCH);
  const volttronWriteSizes = new Map<number, ReturnType<typeof dynamoTimeSeries>>();
  const volttronWrites = (perWrite: number) =>
    volttronWriteSizes.get(perWrite) ??
    volttronWriteSizes.set(perWrite, dynamoTimeSeries(records, perWrite)).get(perWrite)!;
  // The templates one message needs, and the write units of putting them again (PutItem of the same item).
  const templateSets = records.map((r) => timeSeriesWrites(r, RETENTION_DAYS).templates);
  const templateWruPerMessage =
    templateSets.reduce(
      (s, ts) => s + ts.reduce((w, t) => w + units(itemSize(t as unknown as Record<string, unknown>), KB), 0),
      0,
    ) / templateSets.length;
  const templatesPerVen = new Set(templateSets.flat().map((t) => `${t.pk}#${t.bucket}`)).size;
  // the templates a VEN's writes keep using (its event template only during events)
  const templatesPerMessage = templateSets.reduce((s, ts) => s + ts.length, 0) / templateSets.length;
  // The registry state item the heartbeat updates (UpdateItem bills the larger of the item before and after: the same size).
  let latest: Record<string, unknown> = {};
  await ingestMeteringMessage(
    {
      payload: metering[400] as unknown as Record<string, unknown>,
      topic: topics.metering,
      clientId: 'ven-00042',
      receivedAt: metering[400]!.timestamp * 1000,
    },
    {
      telemetry: { write: async () => undefined },
      registry: {
        recordHeartbeat: async (_k: string, _d: string, _a: number, l: Record<string, unknown>) => void (latest = l),
      },
    } as unknown as IngestPorts,
  );
  const now = new Date().toISOString();
  const registryItem = {
    deviceId: 'ven-00042',
    part: 'state',
    lastSeen: now,
    latestAt: Date.now(),
    latest,
    online: true,
    registered: true,
    presenceAt: Date.now(),
    connectedAt: now,
  };
  const registryWru = units(itemSize(registryItem), KB);
  const shadows = economyShadows();
  const measuredMs = await perRecordMs(metering);
  const initMs = ctx.measured.meteringInitMs ?? 196;

  const eventSamples = (EVENT_HOURS_PER_MONTH * 3600) / INTERVAL_SEC;
  const traffic: Record<Profile, ProfileTraffic> = {
    economy: {
      messages: (SAMPLES_PER_MONTH - eventSamples) / BATCH + eventSamples,
      samplesPerMessage: SAMPLES_PER_MONTH / ((SAMPLES_PER_MONTH - eventSamples) / BATCH + eventSamples),
      payloadBytes: batchBytes,
      recordBytes: batchRecordBytes,
      topic: topics.meteringBasicIngest,
      shadowUpdates: shadows.perHour * (720 - EVENT_HOURS_PER_MONTH) + shadows.perEventHour * EVENT_HOURS_PER_MONTH,
      telemetryCopy: PROFILES.economy.telemetryCopy,
      basicIngest: PROFILES.economy.basicIngest,
      perRecordMs: measuredMs.economy,
    },
    volttron: {
      messages: SAMPLES_PER_MONTH,
      samplesPerMessage: 1,
      payloadBytes: meteringBytes,
      recordBytes: volttronRecordBytes,
      topic: topics.metering,
      shadowUpdates: MONTH_SEC / (PROFILES.volttron.shadowMs / 1000),
      telemetryCopy: PROFILES.volttron.telemetryCopy,
      basicIngest: PROFILES.volttron.basicIngest,
      perRecordMs: measuredMs.volttron,
    },
  };
  // During events the economy agent sends single samples: price the economy's messages as batches and singles.
  const economyBatches = (SAMPLES_PER_MONTH - eventSamples) / BATCH;

  const costOf = (p: Path, fleet: number): Line[] => {
    const t = traffic[p.profile];
    const economy = p.profile === 'economy';
    const messageUnits = economy
      ? economyBatches * units(batchBytes + utf8(t.topic), 5 * KB) +
        eventSamples * units(meteringBytes + utf8(t.topic), 5 * KB)
      : t.messages * units(meteringBytes + utf8(t.topic), 5 * KB);
    const putUnits = economy
      ? economyBatches * units(batchRecordBytes, 25 * KB) + eventSamples * units(volttronRecordBytes, 25 * KB)
      : t.messages * units(volttronRecordBytes, 25 * KB);
    const need = shardsNeeded(fleet, t);
    const shardHours = (need.shards + (STREAMS - 1)) * 720;
    const inv = invocationsPerSec(need.recordsPerSec, need.shards, t.recordBytes);
    // a VEN's messages in one batch, each written as one item and one heartbeat (economy: its minute is one message already)
    const perWrite = economy ? 1 : Math.max(1, Math.floor((inv.batchSec * t.messages) / MONTH_SEC));
    const writes = t.messages / perWrite;
    const invocations = (inv.perSec * MONTH_SEC) / fleet;
    const batchMs = INVOCATION_OVERHEAD_MS + inv.recordsPerBatch * t.perRecordMs;
    const samples = SAMPLES_PER_MONTH;
    const lines: Line[] = [
      {
        item: 'IoT connectivity',
        usage: `${(MONTH_SEC / 60).toLocaleString()} connection-minutes`,
        usd: (MONTH_SEC / 60) * PRICES.iot.connectionMinute,
      },
      {
        item: 'IoT messaging: metering',
        usage: t.basicIngest
          ? `${Math.round(t.messages).toLocaleString()} messages through Basic Ingest: not charged`
          : `${Math.round(t.messages).toLocaleString()} × ${units(meteringBytes + utf8(t.topic), 5 * KB)} (5 KB units)`,
        usd: t.basicIngest ? 0 : messageUnits * PRICES.iot.message,
      },
      {
        item: 'IoT messaging: telemetry copy',
        usage: t.telemetryCopy
          ? `${samples.toLocaleString()} × ${units(meteringBytes, 5 * KB)} on ven/telemetry/{id}`
          : 'off',
        usd: t.telemetryCopy ? samples * units(meteringBytes, 5 * KB) * PRICES.iot.message : 0,
      },
      {
        item: 'IoT messaging: shadow updates',
        usage: `${Math.round(t.shadowUpdates).toLocaleString()} × ${units(shadowBytes, 5 * KB)}${economy ? ` (on change + ${PROFILES.economy.shadowMs / 1000} s heartbeat: ${round(shadows.perHour, 1)}/h, ${shadows.perEventHour}/event hour, simulated)` : ` (every ${PROFILES.volttron.shadowMs / 1000} s)`}`,
        usd: t.shadowUpdates * units(shadowBytes, 5 * KB) * PRICES.iot.message,
      },
      {
        item: 'Device shadow operations',
        usage: `${Math.round(t.shadowUpdates).toLocaleString()} × ${units(shadowBytes, KB)} (1 KB units, document ${Math.round(shadowBytes)} B)`,
        usd: t.shadowUpdates * units(shadowBytes, KB) * PRICES.iot.shadowOp,
      },
      {
        item: 'Rules triggered',
        usage: `${Math.round(messageUnits).toLocaleString()} (5 KB units of ${Math.round(t.messages).toLocaleString()} messages)`,
        usd: messageUnits * PRICES.iot.ruleTriggered,
      },
      {
        item: 'Rule actions: Kinesis PutRecord',
        usage: `${Math.round(messageUnits).toLocaleString()} (5 KB units)`,
        usd: messageUnits * PRICES.iot.action,
      },
      {
        item: 'Kinesis PUT payload units',
        usage: `${Math.round(putUnits).toLocaleString()} (25 KB units; record ${Math.round(t.recordBytes)} B)`,
        usd: putUnits * PRICES.kinesis.putPayloadUnit,
      },
      {
        item: 'Kinesis shard-hours, fleet share',
        usage: `${need.shards} metering shard(s) + ${STREAMS - 1} other streams × 1 shard, × 720 h over ${fleet.toLocaleString()} VENs`,
        usd: (shardHours * PRICES.kinesis.shardHour) / fleet,
      },
      {
        item: 'Lambda requests',
        usage: `${Math.round(invocations).toLocaleString()} per VEN (fleet: ${round(inv.perSec, 1)} batches/s of ~${round(inv.recordsPerBatch, 1)} records over ${inv.lanes} lanes)`,
        usd: invocations * PRICES.lambda.request,
      },
      {
        item: 'Lambda duration (512 MB arm64)',
        usage: `${Math.round(invocations).toLocaleString()} × ${Math.ceil(batchMs)} ms (${INVOCATION_OVERHEAD_MS} ms stated + ${round(t.perRecordMs, 2)} ms measured per record)`,
        usd: invocations * (Math.ceil(batchMs) / 1000) * LAMBDA_GB * PRICES.lambda.gbSecond,
      },
      {
        item: 'Lambda INIT, fleet share',
        usage: `${inv.lanes} environment(s), one cold start each per ~${ENVIRONMENT_LIFETIME_H} h, ${Math.round(initMs)} ms`,
        usd:
          (((inv.lanes * 720) / ENVIRONMENT_LIFETIME_H) * (initMs / 1000) * LAMBDA_GB * PRICES.lambda.gbSecond) / fleet,
      },
    ];
    if (p.store === 'timestream') {
      const writes = economy
        ? economyBatches * tsWritesBatch + eventSamples * tsWritesSingle
        : t.messages * tsWritesSingle;
      const gbPerHour = (tsStoredPerSample * (3600 / INTERVAL_SEC)) / 1e9;
      lines.push(
        {
          item: 'Timestream writes',
          usage: `${Math.round(writes).toLocaleString()} (1 KiB units per request; ${round(economy ? tsWritesBatch : tsWritesSingle, 1)} per message)`,
          usd: writes * PRICES.timestream.write1KiB,
        },
        {
          item: 'Timestream memory store',
          usage: `${round(gbPerHour * MEMORY_STORE_HOURS * 1000, 1)} MB held (${MEMORY_STORE_HOURS} h) × 720 h`,
          usd: gbPerHour * MEMORY_STORE_HOURS * 720 * PRICES.timestream.memoryGbHour,
        },
        {
          item: `Time-series storage (${RETENTION_DAYS} days)`,
          usage: `Timestream magnetic, ${round((tsStoredPerSample * samples) / 1e6)} MB`,
          usd: ((tsStoredPerSample * samples) / 1e9) * PRICES.timestream.magneticGbMonth,
        },
      );
    } else {
      const ddb = economy ? ddbBatch : volttronWrites(perWrite);
      const wru = economy
        ? economyBatches * BATCH * ddbBatch.wruPerSample + eventSamples * ddbSingle.wruPerSample
        : samples * ddb.wruPerSample;
      // Every environment sees every VEN: past TEMPLATE_CACHE templates the cache is cleared over and over and each
      // write puts its templates again.
      const inUse = Math.round(fleet * templatesPerMessage);
      const missRate = templateMissRate(fleet, inv.lanes, Math.round(templatesPerMessage));
      lines.push(
        {
          item: 'DynamoDB time-series writes',
          usage: `${Math.round(wru).toLocaleString()} WRU (${round(wru / samples, 2)} per sample; ${round(ddb.itemsPerSample, 2)} items per sample)`,
          usd: wru * PRICES.dynamodb.wru,
        },
        {
          item: 'DynamoDB template re-puts',
          usage:
            missRate > 0
              ? `${inUse.toLocaleString()} templates in use > the ${TEMPLATE_CACHE.toLocaleString()}-entry cache of each of ${inv.lanes} environments: ${round(100 * missRate)}% of writes (simulated) put theirs again, ${round(templateWruPerMessage, 1)} WRU`
              : `none (${inUse.toLocaleString()} templates in use fit the ${TEMPLATE_CACHE.toLocaleString()}-entry cache)`,
          usd: missRate * writes * templateWruPerMessage * PRICES.dynamodb.wru,
        },
        {
          item: `Time-series storage (${RETENTION_DAYS} days)`,
          usage: `DynamoDB, ${round((ddb.storedPerSample * samples) / 1e6)} MB (TTL)`,
          usd: ((ddb.storedPerSample * samples) / 1e9) * PRICES.dynamodb.storageGbMonth,
        },
      );
    }
    lines.push({
      item: 'DynamoDB registry heartbeat',
      usage: `${Math.round(writes).toLocaleString()} × ${registryWru} WRU (one per VEN per batch${perWrite > 1 ? `, which holds ${perWrite} of its messages` : ''}; state item ${itemSize(registryItem)} B)`,
      usd: writes * registryWru * PRICES.dynamodb.wru,
    });
    lines.push(operatorLine(itemSize(registryItem), p.store === 'dynamodb' ? ddbSingle.telemetryBytesPerSample : 0));
    lines.push(
      rollupCostLine({
        prices: PRICES,
        timeseriesBytesPerSample:
          p.store === 'dynamodb' ? (economy ? ddbBatch : volttronWrites(perWrite)).storedPerSample : 0,
        samplesPer15Min: 900 / INTERVAL_SEC,
        registryItemBytes: itemSize(registryItem),
        archiveRetentionDays: 730,
        lambdaGb: LAMBDA_GB,
        itemSize,
      }),
    );
    return lines;
  };

  const sum = (lines: Line[]) => lines.reduce((s, l) => s + l.usd, 0);
  const platformOf = (lines: Line[]) => sum(lines.filter((l) => !DEVICE_SIDE.has(l.item)));
  const results = PATHS.map((p) => ({
    path: p,
    byFleet: FLEETS.map((fleet) => {
      const lines = costOf(p, fleet);
      return { fleet, lines, total: sum(lines), platform: platformOf(lines) };
    }),
  }));
  const at = (i: number, fleet = REFERENCE_FLEET) => results[i]!.byFleet.find((f) => f.fleet === fleet)!;
  const top = (lines: Line[], n = 3) =>
    [...lines]
      .sort((a, b) => b.usd - a.usd)
      .slice(0, n)
      .map((l) => `${l.item} ${usd(l.usd)}`)
      .join(', ');
  const topPlatform = (lines: Line[], n = 3) =>
    top(
      lines.filter((l) => !DEVICE_SIDE.has(l.item)),
      n,
    );
  const letters = 'abcd';

  const capacity = capacityModel(traffic, templatesPerVen);
  const economyDdb = at(0);
  const volttronDdb = at(1);
  const reputs = (f: { lines: Line[] }) => f.lines.find((l) => l.item === 'DynamoDB template re-puts')?.usd ?? 0;
  const lineOf = (f: { lines: Line[] }, item: string) => f.lines.find((l) => l.item === item)?.usd ?? 0;
  const volttronRules = lineOf(volttronDdb, 'Rules triggered') + lineOf(volttronDdb, 'Rule actions: Kinesis PutRecord');
  // the volttron VEN if each of its messages were a write and a heartbeat of its own (a batching window of ~1 s)
  const volttronIfUnbatched =
    volttronDdb.platform -
    lineOf(volttronDdb, 'DynamoDB time-series writes') -
    lineOf(volttronDdb, 'DynamoDB registry heartbeat') +
    SAMPLES_PER_MONTH * ddbSingle.wruPerSample * PRICES.dynamodb.wru +
    SAMPLES_PER_MONTH * registryWru * PRICES.dynamodb.wru;
  const withDominant = (g: ReturnType<typeof atMost>, lines: Line[]) =>
    g.met ? g : { ...g, note: `${g.note}; largest: ${top(lines, 2)}` };

  return {
    id: 'cost-model',
    title: '6. Cost and capacity model: $ per VEN-month at 5 s (us-east-1), and where the ingest path binds',
    method:
      `One VEN for 30 days sampling every ${INTERVAL_SEC} s (${SAMPLES_PER_MONTH.toLocaleString()} samples), always connected, priced on a fleet ` +
      `of ${FLEETS.map((f) => f.toLocaleString()).join(' / ')} VENs (the goals at ${REFERENCE_FLEET.toLocaleString()}). Profiles from device/profile.ts: ` +
      `economy (Basic Ingest, batches of ${BATCH}, no telemetry copy, shadow on change + every ${PROFILES.economy.shadowMs / 1000} s; during events, ` +
      `${EVENT_HOURS_PER_MONTH} h a month assumed, every sample at once) and the VOLTTRON VEN (volttron/metering QoS 0, the ven/telemetry copy, the shadow every ` +
      `${PROFILES.volttron.shadowMs / 1000} s). Sizes are measured: the agent's own payloads (default 8-circuit panel, an hour simulated with a DR event) ` +
      `average ${Math.round(meteringBytes)} B per metering message, ${batchBytes} B per batch of ${BATCH}, ${Math.round(shadowBytes)} B per shadow document; ` +
      `the Kinesis record is the rule's output (payload + iot_topic, iot_client_id, iot_received_at: ${Math.round(volttronRecordBytes)} / ${batchRecordBytes} B). ` +
      `The economy shadow count is VenDevice's logic run over a simulated day (shadowChange on every sample, the heartbeat, event start and end): ` +
      `${round(shadows.perHour, 1)} reports an hour, ${shadows.perEventHour} in the event hour. DynamoDB write units come from the real adapter ` +
      `(timeSeriesWrites: one compressed PutItem per VEN and write, 1 KB units; templates apart), storage from the real ` +
      `item sizes (+100 B per item). Kinesis: the metering stream's shards as the stack gives them for the fleet (-c fleetSize = the fleet: ⌈fleet / ${VENS_PER_METERING_SHARD.toLocaleString()}⌉), ` +
      `the other ${STREAMS - 1} streams 1 shard each, shard-hours spread over the fleet; PUT payload units of 25 KB. Lambda: ` +
      `batches of ≤ ${METERING_STREAM.batchSize} records (fewer where Lambda's 6 MB payload binds) or a ${METERING_STREAM.maxBatchingWindowSec} s window per lane (ParallelizationFactor ${METERING_STREAM.parallelization}, ` +
      `every lane assumed busy), invocations from the fleet's record rate; duration per batch ${INVOCATION_OVERHEAD_MS} ms stated + the measured store time ` +
      `per record (storeMetering over local DynamoDB, batches of 20 VENs' minutes: ${round(measuredMs.volttron, 2)} ms per volttron message, ${round(measuredMs.economy, 2)} ms ` +
      `per 12-sample batch; real DynamoDB round trips differ), init ${Math.round(initMs)} ms from bench 2. A VEN's messages in one batch (the lane's batch ` +
      `time × its rate; volttron: 12) are one time-series item and one registry heartbeat (1 UpdateItem). ` +
      `IoT messaging, rules and actions in 5 KB units; Basic Ingest has no messaging charge. Operator API: one operator per ${VENS_PER_OPERATOR} VENs. ` +
      `"Platform-controlled" is every line but the device's connection, messaging and shadow charges. Prices and quotas: PRICES and QUOTAS in ` +
      `bench/cost-model.ts, with their sources (Kinesis dollar figures and IoT/Lambda account quotas unverified there).`,
    figures: {
      prices: PRICES,
      whatIf: {
        volttronPlatformIfOneMessagePerWrite: volttronIfUnbatched,
        economyWithoutReputs: economyDdb.total - reputs(economyDdb),
      },
      quotas: QUOTAS,
      measured: {
        meteringBytes,
        batchBytes,
        shadowBytes,
        volttronRecordBytes,
        batchRecordBytes,
        recordsPerSample,
        tsWritesSingle,
        tsWritesBatch,
        tsStoredPerSample,
        ddbSingle,
        ddbBatch,
        templatesPerVen,
        templatesPerMessage,
        templateWruPerMessage,
        registryWru,
        shadows,
        perRecordMs: measuredMs,
        initMs,
      },
      traffic,
      paths: results.map((r) => ({ ...r.path, byFleet: r.byFleet })),
      capacity,
    },
    rows: [
      ['columns', results.map((r, i) => `(${letters[i]}) ${r.path.name}`).join('; ')],
      ...FLEETS.map((fleet): [string, string] => [
        `TOTAL per VEN-month, ${fleet.toLocaleString()} VENs (platform-controlled)`,
        results
          .map((r, i) => {
            const f = r.byFleet.find((x) => x.fleet === fleet)!;
            return `(${letters[i]}) ${usd(f.total)} (${usd(f.platform)})`;
          })
          .join(' · '),
      ]),
      ...[...new Set(results.flatMap((r) => at(results.indexOf(r)).lines.map((l) => l.item)))].map(
        (item): [string, string] => [
          `${item}${DEVICE_SIDE.has(item) ? '' : ' *'}, ${REFERENCE_FLEET.toLocaleString()} VENs`,
          results
            .map((r, i) => {
              const l = at(i).lines.find((x) => x.item === item);
              return `(${letters[i]}) ${l ? usd(l.usd) : '–'}`;
            })
            .join(' · '),
        ],
      ),
      ...at(0).lines.map((l): [string, string] => [`usage, (a): ${l.item}`, l.usage]),
      ...at(1)
        .lines.filter((l) => !at(0).lines.some((d) => d.item === l.item && d.usage === l.usage))
        .map((l): [string, string] => [`usage, (b): ${l.item}`, l.usage]),
      ...at(1, 100_000)
        .lines.filter((l) => /Kinesis shard|Lambda requests|template/.test(l.item))
        .map((l): [string, string] => [`usage, (b) at 100,000 VENs: ${l.item}`, l.usage]),
      ...capacity.rows,
    ],
    goals: [
      withDominant(
        atMost(
          `economy profile, DynamoDB, $/VEN-month (${REFERENCE_FLEET.toLocaleString()} VENs)`,
          economyDdb.total,
          0.25,
          '$',
          (v) => v.toFixed(3),
        ),
        economyDdb.lines,
      ),
      withDominant(
        atMost(
          `volttron profile, DynamoDB, $/VEN-month (${REFERENCE_FLEET.toLocaleString()} VENs)`,
          volttronDdb.total,
          1.7,
          '$',
          (v) => v.toFixed(3),
        ),
        volttronDdb.lines,
      ),
      withDominant(
        atMost(
          `volttron profile, DynamoDB, platform-controlled $/VEN-month (${REFERENCE_FLEET.toLocaleString()} VENs)`,
          volttronDdb.platform,
          0.35,
          '$',
          (v) => v.toFixed(3),
        ),
        volttronDdb.lines.filter((l) => !DEVICE_SIDE.has(l.item)),
      ),
      atLeast(
        `capacity at 5 s: first limit that is not an account quota, deployed with -c fleetSize=${CAPACITY_FLEET.toLocaleString('en-US')}`,
        capacity.fixedBindsAt,
        100_000,
        'VENs',
        (v) => Math.round(v).toLocaleString('en-US'),
      ),
    ],
    notes: [
      ...results.map((r, i) => {
        const f = at(i);
        return (
          `(${letters[i]}) ${r.path.name}: ${FLEETS.map((fl) => {
            const x = r.byFleet.find((y) => y.fleet === fl)!;
            return `${usd(x.total)} (platform ${usd(x.platform)}) at ${fl.toLocaleString()}`;
          }).join(', ')} VENs. ` +
          `Largest lines at ${REFERENCE_FLEET.toLocaleString()}: ${top(f.lines)}; platform: ${topPlatform(f.lines)}.`
        );
      }),
      `Economy vs volttron on DynamoDB at ${REFERENCE_FLEET.toLocaleString()} VENs: ${usd(economyDdb.total)} vs ${usd(volttronDdb.total)} (${round(volttronDdb.total / economyDdb.total, 1)}×): ` +
        `the device's own charges ${usd(economyDdb.total - economyDdb.platform)} vs ${usd(volttronDdb.total - volttronDdb.platform)} (metering and its telemetry copy ~$0.52 each at 5 s, the 30 s shadow), ` +
        `the platform's ${usd(economyDdb.platform)} vs ${usd(volttronDdb.platform)} (twice the rule units: 12 messages of 1 unit against one batch of 6).`,
      `Template re-puts: DynamoTelemetryStore remembers the keys of up to ${TEMPLATE_CACHE.toLocaleString()} templates it wrote per Lambda environment (the oldest forgotten first); ` +
        `Lambda promises no affinity, so every environment sees every VEN (${round(templatesPerMessage, 1)} templates in use each): past ${Math.floor(TEMPLATE_CACHE / templatesPerMessage).toLocaleString()} VENs ` +
        `writes would put their templates again (${round(templateWruPerMessage, 1)} WRU each; share simulated with the store's rule): ` +
        `${FLEETS.map((fl) => `${usd(reputs(results[1]!.byFleet.find((x) => x.fleet === fl)!))} volttron / ${usd(reputs(results[0]!.byFleet.find((x) => x.fleet === fl)!))} economy at ${fl.toLocaleString()}`).join(', ')} VENs per VEN-month.`,
      `Where the money goes, at ${REFERENCE_FLEET.toLocaleString()} VENs. Economy: time-series writes ${round(ddbBatch.wruPerSample, 2)} WRU per sample (one compressed item per batch of ${BATCH}), ` +
        `rules + actions on ${units(batchBytes + utf8(topics.meteringBasicIngest), 5 * KB)} units of 5 KB per ${Math.round(batchBytes / KB)} KB batch, shard-hours, registry and storage. ` +
        `Volttron: its own messaging and 30 s shadow are ${usd(volttronDdb.total - volttronDdb.platform)}; of the platform's ${usd(volttronDdb.platform)}, rules + actions are ${usd(volttronRules)} ` +
        `whatever the platform does (518,400 messages a month each trigger a rule and an action at $0.15 per million each). The metering stream's 60 s batching window ` +
        `puts a VEN's minute in one batch: one item and one heartbeat per 12 messages. With one per message (a ~1 s window) the volttron platform part would be ${usd(volttronIfUnbatched)}.`,
      ...capacity.notes,
    ],
    seconds: (Date.now() - started) / 1000,
  };
}

interface Bind {
  readonly limit: string;
  readonly quota: string;
  /** Fleet at which it binds at 5 s, economy and volttron (Infinity: never, whatever the fleet). */
  readonly economy: number;
  readonly volttron: number;
  readonly raisable: 'account quota, raised on request' | 'fixed per shard/partition/connection' | 'our configuration';
  readonly action: string;
}

/** For every quota and partition limit on the ingest path, the fleet size at 5 s at which it binds. */
function capacityModel(traffic: Record<Profile, ProfileTraffic>, templatesPerVen: number) {
  const perSec = (perMonth: number) => perMonth / MONTH_SEC;
  const e = traffic.economy;
  const s = traffic.volttron;
  // publishes a VEN makes per second: metering (+ copy) + shadow updates; ACKs and presence are rare
  const publish = (t: ProfileTraffic) => perSec(t.messages * (t.telemetryCopy ? 2 : 1) + t.shadowUpdates);
  const ruleMessages = (t: ProfileTraffic) => perSec(t.messages);
  const eShards = shardsNeeded(1, e);
  const sShards = shardsNeeded(1, s);
  const at100k = { economy: shardsNeeded(CAPACITY_FLEET, e), volttron: shardsNeeded(CAPACITY_FLEET, s) };
  const configuredShards = shardsFor(METERING_RULE_DEF, CAPACITY_FLEET);
  const lanes = (n: number) => n * METERING_STREAM.parallelization;
  const otherLanes = rules
    .filter((r) => r.handler !== 'metering')
    .reduce((sum, r) => sum + r.stream.shards * r.stream.parallelization, 0);
  // concurrency: metering lanes for the shards a fleet needs + the other streams' lanes
  const lambdaBinds = (t: ProfileTraffic) => {
    const maxMeteringShards = Math.floor((QUOTAS.lambdaConcurrency - otherLanes) / METERING_STREAM.parallelization);
    return maxMeteringShards * shardsNeeded(1, t).vensPerShard;
  };
  // a metering lane's busy time at 100,000 VENs: does one batch at a time keep up?
  const busy = (t: ProfileTraffic, need: ReturnType<typeof shardsNeeded>) => {
    const inv = invocationsPerSec(need.recordsPerSec, need.shards, t.recordBytes);
    return (inv.perSec / inv.lanes) * ((INVOCATION_OVERHEAD_MS + inv.recordsPerBatch * t.perRecordMs) / 1000);
  };
  const tsWruPerSec = (t: ProfileTraffic) => perSec(t.messages) * 2; // at most one item per message, ≤ 2 WRU
  const binds: Bind[] = [
    {
      limit: 'IoT Core connect requests/s per account',
      quota: `${QUOTAS.iotConnectsPerSec}/s`,
      economy: QUOTAS.iotConnectsPerSec * 60,
      volttron: QUOTAS.iotConnectsPerSec * 60,
      raisable: 'account quota, raised on request',
      action: `steady state never (connections persist); a whole-fleet reconnect takes N/${QUOTAS.iotConnectsPerSec} s (100,000 VENs: ${100_000 / QUOTAS.iotConnectsPerSec} s), so "binds" here = a reconnect storm longer than a minute; raise it, and reconnect with jittered back-off`,
    },
    {
      limit: 'IoT Core concurrent connections per account',
      quota: QUOTAS.iotConnections.toLocaleString(),
      economy: QUOTAS.iotConnections,
      volttron: QUOTAS.iotConnections,
      raisable: 'account quota, raised on request',
      action: 'one connection per VEN',
    },
    {
      limit: 'IoT Core inbound publish requests/s per account',
      quota: `${QUOTAS.iotInboundPublishPerSec.toLocaleString()}/s`,
      economy: QUOTAS.iotInboundPublishPerSec / publish(e),
      volttron: QUOTAS.iotInboundPublishPerSec / publish(s),
      raisable: 'account quota, raised on request',
      action: `a VEN publishes ${round(publish(e), 3)}/s (economy: Basic Ingest batches + shadow) or ${round(publish(s), 3)}/s (volttron: metering, its copy, the shadow)`,
    },
    {
      limit: 'IoT rules engine inbound messages/s per account (Basic Ingest included)',
      quota: `${QUOTAS.iotRulesInboundPerSec.toLocaleString()}/s`,
      economy: QUOTAS.iotRulesInboundPerSec / ruleMessages(e),
      volttron: QUOTAS.iotRulesInboundPerSec / ruleMessages(s),
      raisable: 'account quota, raised on request',
      action: `metering messages reaching the rule: ${round(ruleMessages(e), 4)}/s (economy) or ${round(ruleMessages(s), 2)}/s (volttron) per VEN; Basic Ingest skips the broker's messaging charge, not this quota`,
    },
    {
      limit: 'IoT publishes/s per connection',
      quota: `${QUOTAS.iotPublishPerConnectionPerSec}/s`,
      economy: Infinity,
      volttron: Infinity,
      raisable: 'fixed per shard/partition/connection',
      action: `a VEN publishes < 1/s`,
    },
    {
      limit: `Kinesis metering stream, 1 MB/s or 1,000 records/s per shard (-c fleetSize=${CAPACITY_FLEET}: ${configuredShards} shards)`,
      quota: `${configuredShards} shards`,
      economy: eShards.vensPerShard * configuredShards,
      volttron: sShards.vensPerShard * configuredShards,
      raisable: 'our configuration',
      action: `bytes bind first (a record is ${Math.round(e.recordBytes)} B a minute or ${Math.round(s.recordBytes)} B every 5 s: ~${Math.round(e.recordBytes / 60)} B/s per VEN either way); the stack gives the metering stream ⌈fleetSize / ${VENS_PER_METERING_SHARD.toLocaleString()}⌉ shards (lambdas/core/contracts/rules.ts), a shard carries ${Math.min(eShards.vensPerShard, sShards.vensPerShard).toLocaleString()} VENs at ≤ ${SHARD_HEADROOM * 100}% (measured records); default fleetSize ${DEFAULT_FLEET_SIZE.toLocaleString()} = ${shardsFor(METERING_RULE_DEF, DEFAULT_FLEET_SIZE)} shard; 10,000 VENs ${shardsFor(METERING_RULE_DEF, 10_000)}, 100,000 VENs ${configuredShards} shards (the records need ${Math.max(at100k.economy.needed, at100k.volttron.needed)}). Deploy with -c fleetSize=<VENs planned>: resharding later is an UpdateShardCount (at most doubling per call, a few per day)`,
    },
    {
      limit: 'Kinesis shards per Region (account)',
      quota: QUOTAS.kinesisShardsPerRegion.toLocaleString(),
      economy: (QUOTAS.kinesisShardsPerRegion - (STREAMS - 1)) * eShards.vensPerShard,
      volttron: (QUOTAS.kinesisShardsPerRegion - (STREAMS - 1)) * sShards.vensPerShard,
      raisable: 'account quota, raised on request',
      action: 'only once the metering stream is sized as above',
    },
    {
      limit: 'Kinesis ack stream, 1,000 records/s (1 shard)',
      quota: '1 shard',
      economy: Infinity,
      volttron: Infinity,
      raisable: 'our configuration',
      action: `not by fleet size: by a fleet dispatch whose ACKs arrive faster than ${SHARD_HEADROOM * 1000}/s (a throttled put fails the rule action: the ACK goes to the dead-letter queue); a dispatch to N VENs at once needs ⌈N / ${SHARD_HEADROOM * 1000}⌉ ack shards per second of spread`,
    },
    {
      limit: 'Kinesis presence stream, 1,000 records/s (1 shard)',
      quota: '1 shard',
      economy: Infinity,
      volttron: Infinity,
      raisable: 'our configuration',
      action: `never while connects are held to ${QUOTAS.iotConnectsPerSec}/s (a storm is ≤ ${QUOTAS.iotConnectsPerSec} connect + ${QUOTAS.iotConnectsPerSec} disconnect events/s); add a shard with a raised connect quota`,
    },
    {
      limit: `Lambda concurrent executions per Region (metering: ${METERING_STREAM.parallelization} per shard)`,
      quota: QUOTAS.lambdaConcurrency.toLocaleString(),
      economy: lambdaBinds(e),
      volttron: lambdaBinds(s),
      raisable: 'account quota, raised on request',
      action: `${lanes(1)} lanes per metering shard + ${otherLanes} for the other streams + the API; at 100,000 VENs ${lanes(at100k.volttron.shards) + otherLanes} lanes, each busy ${round(100 * busy(s, at100k.volttron), 1)}% (volttron) / ${round(100 * busy(e, at100k.economy), 1)}% (economy) of the time`,
    },
    {
      limit: 'DynamoDB time series: 1,000 WRU/s per partition (samples#device#day)',
      quota: '1,000 WRU/s',
      economy: Infinity,
      volttron: Infinity,
      raisable: 'fixed per shard/partition/connection',
      action: `one VEN's partition takes ≤ ${round(tsWruPerSec(s), 2)} WRU/s (templates: their own per-device partition, ${templatesPerVen} items)`,
    },
    {
      limit: 'DynamoDB registry: state item per device',
      quota: '1,000 WRU/s',
      economy: Infinity,
      volttron: Infinity,
      raisable: 'fixed per shard/partition/connection',
      action: `≤ ${round(perSec(s.messages), 2)} heartbeats/s per device; the state item is in no index`,
    },
    {
      limit: 'DynamoDB registry byKind index (16 shards): identity writes only',
      quota: '16 × 1,000 WRU/s',
      economy: Infinity,
      volttron: Infinity,
      raisable: 'fixed per shard/partition/connection',
      action: `once per device, at its first report: a whole fleet registering at the connect quota is ${QUOTAS.iotConnectsPerSec / 16} writes/s per shard`,
    },
    {
      limit: 'DynamoDB commands byDeadline index (16 shards) during a fleet dispatch',
      quota: '16 × 1,000 WRU/s',
      economy: Infinity,
      volttron: Infinity,
      raisable: 'fixed per shard/partition/connection',
      action:
        'not by fleet size: 2 index writes per command (sent, then acked/timed-out) over 16 shards cap a dispatch at ~8,000–16,000 commands/s (100,000 VENs: ≥ 6–13 s of writes); more shards in lambdas/core/common/shards.ts if faster is needed',
    },
    {
      limit: "DynamoDB refusal log: one partition per UTC day (only if the fleet's messages are all refused)",
      quota: '1,000 WRU/s',
      economy: QUOTAS.dynamoPartitionWruPerSec / ruleMessages(e),
      volttron: QUOTAS.dynamoPartitionWruPerSec / ruleMessages(s),
      raisable: 'fixed per shard/partition/connection',
      action: `only when the fleet's messages are refused (a bad firmware rollout): every metering message refused is one write to today's partition; error-sink-limit holds each device to 5/s per environment, above a VEN's rate, so it does not help; shard the day key (day#…#00–15) if that failure must be absorbed`,
    },
  ];
  const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'never');
  const rows = binds.map((b): [string, string] => [
    `capacity: ${b.limit}`,
    `${b.quota}; binds at economy ${fmt(b.economy)} / volttron ${fmt(b.volttron)} VENs; ${b.raisable}; ${b.action}`,
  ]);
  const normal = binds.filter((b) => !b.limit.includes('refusal'));
  const fixedBindsAt = Math.min(
    ...normal
      .filter((b) => b.raisable !== 'account quota, raised on request')
      .map((b) => Math.min(b.economy, b.volttron)),
  );
  const below = binds.filter((b) => Math.min(b.economy, b.volttron) < 100_000);
  const notes = [
    `Capacity at 5 s: below 100,000 VENs, ${below.map((b) => `${b.limit} (${b.raisable}: economy ${fmt(b.economy)}, volttron ${fmt(b.volttron)})`).join('; ')}. ` +
      `The metering stream follows -c fleetSize (default ${DEFAULT_FLEET_SIZE.toLocaleString('en-US')} VENs: ${shardsFor(METERING_RULE_DEF, DEFAULT_FLEET_SIZE)} shard, which binds at ~${fmt(Math.min(eShards.vensPerShard, sShards.vensPerShard) * shardsFor(METERING_RULE_DEF, DEFAULT_FLEET_SIZE))} VENs); ` +
      `deployed with -c fleetSize=${CAPACITY_FLEET.toLocaleString('en-US')} (${configuredShards} shards, priced in the cost lines at each fleet's own fleetSize) nothing but account quotas binds below 100,000 in normal operation.`,
  ];
  return { binds, rows, notes, fixedBindsAt, shardsAt100k: at100k };
}

const SERIES = ['ven_telemetry', 'ven_load_sample'] as const;

/** One operator per VENS_PER_OPERATOR VENs, its dashboard open 8 h a day, shared over them. */
function operatorLine(registryItemBytes: number, timeseriesItemBytes: number): Line {
  const hours = 8 * 30;
  const listCalls = (hours * 3600) / 10;
  const detailCalls = (hours * 3600) / 30;
  const requests = listCalls + 2 * detailCalls;
  const listRru = Math.ceil((VENS_PER_OPERATOR * registryItemBytes) / (4 * KB)) * 0.5; // eventually consistent
  const pageRru = timeseriesItemBytes ? Math.ceil((100 * timeseriesItemBytes) / (4 * KB)) * 0.5 : 0;
  const usdTotal =
    requests * (PRICES.apiGateway.request + PRICES.lambda.request + 0.02 * LAMBDA_GB * PRICES.lambda.gbSecond) +
    (listCalls * listRru + detailCalls * pageRru) * PRICES.dynamodb.rru +
    detailCalls * PRICES.iot.shadowOp;
  return {
    item: 'Operator API (fleet share)',
    usage: `${Math.round(requests).toLocaleString()} calls a month by one operator per ${VENS_PER_OPERATOR} VENs (API Gateway, Lambda, reads, shadow gets)`,
    usd: usdTotal / VENS_PER_OPERATOR,
  };
}
