// Time-series adapter on DynamoDB. One immutable item per device and write: every sample of that device in one
// `write()` (a metering message, or a Kinesis batch's worth), all series together, packed (timeseries-packing.ts),
// JSON, Brotli-compressed. `pk` = samples#device#UTC day, `bucket` = the first sample's time, `#`, a hash of the
// content; samples of one item lie within SPAN_MS of the first and in one day. Templates are items of their own
// (`pk` = series#device#templates, `bucket` = template id). A write is one PutItem billed on its own size (an append to
// a shared bucket item is billed on the whole bucket each time); the same write again has the same key and changes
// nothing; where two items hold a sample of the same time, the one written first is read. Why: README, "Storage".
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { ValidationError } from '../contracts/errors.js';
import { mapLimited } from '../common/map-limited.js';
import { decodeToken, encodeToken } from '../common/page-token.js';
import type { Page } from '../common/page.js';
import type { SeriesQuery, SeriesRecord, TelemetryStore } from './telemetry-store.js';
import type { SeriesName } from '../contracts/tables.js';
import {
  memberOf,
  pack,
  samplesOf,
  unpack,
  type PackedSample,
  type Sample,
  type Template,
} from './timeseries-packing.js';

const DAY_MS = 86_400_000;
/** The samples of one item lie within this of its first: a read looks back this far before its range. */
export const SPAN_MS = 300_000;
/** Compressed bytes per item, at most: far below DynamoDB's 400 KB with the keys. */
const MAX_ITEM_BYTES = 300_000;
/**
 * PutItems of one write under way at once. A day of 5-minute samples is 288 items: sent all at once, the SDK signs
 * every request before the first is answered (seconds of CPU with nothing else running) while its open connections
 * sit idle past the endpoint's keep-alive timeout, and each one then fails with `socket hang up`.
 */
export const WRITE_PARALLEL = 16;
/** Templates kept in memory per process for reads, the least recently used forgotten first. */
const TEMPLATE_CACHE = 10_000;
/**
 * Keys of the templates this process has written: a write puts a device's template once per process. Every Lambda
 * environment sees every device, so this must hold the whole fleet's (two per VEN; ~100 B a key): forgetting them
 * re-writes templates at 3 write units each (bench/cost-model.ts found it doubling the cost past 5,000 VENs).
 */
const WRITTEN_KEYS = 250_000;

export interface DynamoTelemetryStoreProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly retentionDays: number;
  /** The clock an item's write time `w` is taken from (tests simulate when a sample arrived). */
  readonly now?: () => number;
}

export interface TemplateItem {
  readonly pk: string;
  readonly bucket: string;
  readonly template: Template;
}

/** What an item's `z` holds once decompressed: series → the sample's offset from the item's first (ms) → the sample. */
type Contents = Partial<Record<SeriesName, Record<string, PackedSample>>>;

/** One item as it is put. */
export interface SamplesItem {
  readonly pk: string;
  readonly bucket: string;
  /** When it was written (ms): of two samples of one time, the earlier write's is read. */
  readonly w: number;
  /** Brotli of the JSON of Contents. */
  readonly z: Uint8Array;
  readonly expiresAt: number;
}

/** What one `write()` stores: the templates it needs and one item per device (a few, for long or huge writes): also what bench/cost-model.ts sizes. */
export function timeSeriesWrites(
  records: readonly SeriesRecord[],
  retentionDays: number,
  writtenAt = Date.now(),
): { templates: TemplateItem[]; items: SamplesItem[] } {
  const templates = new Map<string, TemplateItem>();
  const byDevice = new Map<string, { sample: Sample; packed: PackedSample }[]>();
  for (const sample of samplesOf(records)) {
    const { templateId, template, packed } = pack(sample);
    const pk = templatesKey(sample.series, sample.deviceId);
    templates.set(`${pk}\u0000${templateId}`, { pk, bucket: templateId, template });
    let list = byDevice.get(sample.deviceId);
    if (!list) byDevice.set(sample.deviceId, (list = []));
    list.push({ sample, packed });
  }
  const items: SamplesItem[] = [];
  for (const [deviceId, list] of byDevice) {
    list.sort((a, b) => a.sample.time - b.sample.time);
    let run: typeof list = [];
    const flush = () => {
      if (run.length) items.push(...itemsOf(deviceId, run, retentionDays, writtenAt));
      run = [];
    };
    for (const entry of list) {
      const first = run[0]?.sample.time;
      if (first !== undefined && (entry.sample.time - first >= SPAN_MS || day(entry.sample.time) !== day(first)))
        flush();
      run.push(entry);
    }
    flush();
  }
  return { templates: [...templates.values()], items };
}

/** One item for these samples of one device, or, past MAX_ITEM_BYTES compressed, two halves' items. */
function itemsOf(
  deviceId: string,
  run: { sample: Sample; packed: PackedSample }[],
  retentionDays: number,
  writtenAt: number,
): SamplesItem[] {
  const first = run[0]!.sample.time;
  const contents: Contents = {};
  for (const { sample, packed } of run) (contents[sample.series] ??= {})[String(sample.time - first)] = packed;
  const json = JSON.stringify(contents);
  const z = brotliCompressSync(json, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 6, [constants.BROTLI_PARAM_SIZE_HINT]: json.length },
  });
  if (z.length > MAX_ITEM_BYTES && run.length > 1) {
    const half = Math.ceil(run.length / 2);
    return [
      ...itemsOf(deviceId, run.slice(0, half), retentionDays, writtenAt),
      ...itemsOf(deviceId, run.slice(half), retentionDays, writtenAt),
    ];
  }
  const hash = createHash('sha256').update(json).digest('base64url').slice(0, 8);
  return [
    {
      pk: partitionKey(deviceId, first),
      bucket: `${sortKey(first)}#${hash}`,
      w: writtenAt,
      z,
      expiresAt: Math.floor(run.at(-1)!.sample.time / 1000) + retentionDays * 86_400,
    },
  ];
}

interface Cursor {
  /** The last record handed out: its time and member. */
  t: number;
  m: string;
}

/** A sample read, with what decides between two of the same time: its item's write time, then key. */
interface Found {
  readonly packed: PackedSample;
  readonly w: number;
  readonly key: string;
}

export class DynamoTelemetryStore implements TelemetryStore {
  private readonly templates = new Map<string, Template>();
  private readonly written = new Set<string>();

  constructor(private readonly props: DynamoTelemetryStoreProps) {}

  async write(records: readonly SeriesRecord[]): Promise<void> {
    const { templates, items } = timeSeriesWrites(records, this.props.retentionDays, (this.props.now ?? Date.now)());
    const unknown = templates.filter((t) => !this.written.has(`${t.pk}#${t.bucket}`));
    await mapLimited(unknown, WRITE_PARALLEL, (t) =>
      this.props.client.send(new PutCommand({ TableName: this.props.tableName, Item: t })),
    );
    for (const t of unknown) {
      this.remember(t.pk, t.bucket, t.template);
      bounded(this.written, WRITTEN_KEYS).add(`${t.pk}#${t.bucket}`);
    }
    await mapLimited(items, WRITE_PARALLEL, (item) => this.put(item));
  }

  /** Put once: the same samples again (a redelivered batch) have the same key and are left as they were. */
  private async put(item: SamplesItem): Promise<void> {
    try {
      await this.props.client.send(
        new PutCommand({
          TableName: this.props.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    }
  }

  async query(q: SeriesQuery): Promise<Page<SeriesRecord>> {
    const after = q.next ? cursorOf(q.next, q) : undefined;
    const end = after?.t ?? q.end;
    const items: SeriesRecord[] = [];
    /** Samples read and not yet handed out, by time. */
    const pending = new Map<number, Found>();
    /** Hands out, newest first, the pending samples at or after `from` (no item still unread can hold one). */
    const release = async (from: number) => {
      for (const time of [...pending.keys()].filter((t) => t >= from).sort((a, b) => b - a)) {
        const found = pending.get(time)!;
        pending.delete(time);
        if (items.length === q.limit) continue;
        const template = await this.template(q, found.packed[0]);
        const unpacked = unpack({ series: q.series, deviceId: q.deviceId, time }, template, found.packed);
        const records = q.withWriteTime ? unpacked.map((r) => ({ ...r, writtenAt: found.w })) : unpacked;
        for (const r of records.sort((a, b) => byteOrder(memberOf(b), memberOf(a)))) {
          if (items.length === q.limit) break;
          if (after && r.time === after.t && byteOrder(memberOf(r), after.m) >= 0) continue;
          if (q.where && r.dimensions[q.where.dimension] !== q.where.value) continue;
          items.push(r);
        }
      }
    };
    let perItem = 1;
    let read = 0;
    for (const dayStart of dayStarts(q.start, end)) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const res = await this.props.client.send(
          new QueryCommand({
            TableName: this.props.tableName,
            KeyConditionExpression: 'pk = :pk AND #bucket BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#bucket': 'bucket' },
            ExpressionAttributeValues: {
              ':pk': partitionKey(q.deviceId, dayStart),
              ':from': sortKey(Math.max(q.start - SPAN_MS + 1, dayStart)),
              ':to': `${sortKey(Math.min(end, dayStart + DAY_MS - 1))}~`,
            },
            ScanIndexForward: false,
            ...(q.consistent && { ConsistentRead: true }),
            Limit: Math.min(100, Math.ceil((q.limit - items.length) / perItem) + 1),
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of res.Items ?? []) {
          const first = Number((item.bucket as string).slice(0, 14));
          const samples = contentsOf(item)[q.series] ?? {};
          for (const [offset, packed] of Object.entries(samples)) {
            const time = first + Number(offset);
            if (time < q.start || time > end) continue;
            const found: Found = { packed, w: item.w as number, key: item.bucket as string };
            const held = pending.get(time);
            if (!held || found.w < held.w || (found.w === held.w && found.key < held.key)) pending.set(time, found);
          }
          read++;
          // items still to come start at or before this one, so hold samples no later than SPAN_MS after it
          await release(first + SPAN_MS);
          if (items.length === q.limit) break;
        }
        perItem = Math.max(1, items.length / Math.max(1, read));
        startKey = res.LastEvaluatedKey;
      } while (startKey && items.length < q.limit);
      await release(-Infinity);
      if (items.length === q.limit) {
        const last = items.at(-1)!;
        return { items, next: encodeToken({ t: last.time, m: memberOf(last) } satisfies Cursor) };
      }
    }
    return { items };
  }

  /**
   * A template is written before the first item that uses it, but an eventually consistent read may see the item and
   * not yet the template (two items, two reads): a miss is read again consistently, which sees every write.
   */
  private async template(q: SeriesQuery, id: string): Promise<Template> {
    const pk = templatesKey(q.series, q.deviceId);
    for (const consistent of q.consistent ? [true] : [false, true]) {
      if (this.templates.has(`${pk}#${id}`)) break;
      let startKey: Record<string, unknown> | undefined;
      do {
        const res = await this.props.client.send(
          new QueryCommand({
            TableName: this.props.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ...(consistent && { ConsistentRead: true }),
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of res.Items ?? []) this.remember(pk, item.bucket as string, item.template as Template);
        startKey = res.LastEvaluatedKey;
      } while (startKey);
    }
    const template = this.templates.get(`${pk}#${id}`);
    if (!template) throw new Error(`time series: template ${id} of ${q.series} ${q.deviceId} is missing`);
    return template;
  }

  private remember(pk: string, id: string, template: Template) {
    const key = `${pk}#${id}`;
    this.templates.delete(key); // re-inserted last: Map order is recency
    bounded(this.templates, TEMPLATE_CACHE).set(key, template);
  }
}

/** An item's samples, decompressed. */
export const contentsOf = (item: Record<string, unknown>): Contents =>
  JSON.parse(brotliDecompressSync(item.z as Uint8Array).toString('utf8')) as Contents;

function cursorOf(token: string, q: SeriesQuery): Cursor {
  const c = decodeToken<Partial<Cursor>>(token);
  if (typeof c.t !== 'number' || typeof c.m !== 'string' || c.t < q.start || c.t > q.end) {
    throw new ValidationError('next', 'next: the page token does not belong to this time range');
  }
  return { t: c.t, m: c.m };
}

/** DynamoDB's order of string keys (UTF-8 bytes), which the old one-item-per-record layout returned. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const day = (time: number) => new Date(time).toISOString().slice(0, 10);
const partitionKey = (deviceId: string, time: number) => `samples#${deviceId}#${day(time)}`;
const templatesKey = (series: string, deviceId: string) => `${series}#${deviceId}#templates`;
const sortKey = (time: number) => String(time).padStart(14, '0');

/** The start of each UTC day from `end` back to `start`, newest first. */
function dayStarts(start: number, end: number): number[] {
  const days: number[] = [];
  for (let t = Math.floor(end / DAY_MS) * DAY_MS; t >= Math.floor(start / DAY_MS) * DAY_MS; t -= DAY_MS) days.push(t);
  return days;
}

/** Makes room for one more entry by forgetting the oldest (insertion order). */
function bounded<T extends Map<string, unknown> | Set<string>>(collection: T, max: number): T {
  if (collection.size >= max) collection.delete(collection.keys().next().value!);
  return collection;
}
