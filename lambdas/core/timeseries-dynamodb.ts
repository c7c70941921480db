// Time-series adapter on DynamoDB. One item per series, device and 30-second bucket (`pk` = series#device#UTC day,
// `bucket` = the bucket's start), one attribute per sample named by its offset in the bucket (ms), holding the
// sample packed (timeseries-packing.ts). Templates are items of their own (`pk` = series#device#templates, `bucket` =
// template id). Writing a sample sets its attribute unless the bucket has it already (the first sample of a time is
// kept), so a redelivered sample changes nothing and two batches of one bucket merge. Why 30 s and not a minute: README, "Storage".
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from './errors.js';
import { decodeToken, encodeToken } from './page-token.js';
import type { Page, SeriesQuery, SeriesRecord, TelemetryStore } from './ports.js';
import { memberOf, pack, samplesOf, unpack, type PackedSample, type Template } from './timeseries-packing.js';

const DAY_MS = 86_400_000;
export const BUCKET_MS = 30_000;
/** Samples set by one UpdateItem: keeps the update expression far below DynamoDB's 4 KB. */
const SAMPLES_PER_UPDATE = 50;
const KEYS = new Set(['pk', 'bucket', 'expiresAt']);
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
}

export interface TemplateItem {
  readonly pk: string;
  readonly bucket: string;
  readonly template: Template;
}

export interface BucketWrite {
  readonly key: { readonly pk: string; readonly bucket: string };
  /** Attribute name (the sample's offset in the bucket, ms) → the packed sample. */
  readonly samples: Record<string, PackedSample>;
  readonly expiresAt: number;
}

/** What one `write()` stores: the templates it needs and one update per bucket (also what bench/cost-model.ts sizes). */
export function timeSeriesWrites(records: readonly SeriesRecord[], retentionDays: number): { templates: TemplateItem[]; buckets: BucketWrite[] } {
  const templates = new Map<string, TemplateItem>();
  const buckets = new Map<string, BucketWrite>();
  for (const sample of samplesOf(records)) {
    const { templateId, template, packed } = pack(sample);
    const pk = templatesKey(sample.series, sample.deviceId);
    templates.set(`${pk}\u0000${templateId}`, { pk, bucket: templateId, template });
    const start = bucketStart(sample.time);
    const key = { pk: partitionKey(sample.series, sample.deviceId, sample.time), bucket: sortKey(start) };
    const id = `${key.pk}\u0000${key.bucket}`;
    let write = buckets.get(id);
    if (!write) {
      write = { key, samples: {}, expiresAt: Math.floor((start + BUCKET_MS) / 1000) + retentionDays * 86_400 };
      buckets.set(id, write);
    }
    write.samples[String(sample.time - start)] = packed;
  }
  return { templates: [...templates.values()], buckets: [...buckets.values()] };
}

interface Cursor {
  /** The last record handed out: its time and member. */
  t: number;
  m: string;
}

export class DynamoTelemetryStore implements TelemetryStore {
  private readonly templates = new Map<string, Template>();
  private readonly written = new Set<string>();

  constructor(private readonly props: DynamoTelemetryStoreProps) {}

  async write(records: readonly SeriesRecord[]): Promise<void> {
    const { templates, buckets } = timeSeriesWrites(records, this.props.retentionDays);
    const unknown = templates.filter((t) => !this.written.has(`${t.pk}#${t.bucket}`));
    await Promise.all(unknown.map((t) => this.props.client.send(new PutCommand({ TableName: this.props.tableName, Item: t }))));
    for (const t of unknown) {
      this.remember(t.pk, t.bucket, t.template);
      bounded(this.written, WRITTEN_KEYS).add(`${t.pk}#${t.bucket}`);
    }
    await Promise.all(buckets.map((b) => this.writeBucket(b)));
  }

  async query(q: SeriesQuery): Promise<Page<SeriesRecord>> {
    const after = q.next ? cursorOf(q.next, q) : undefined;
    const end = after?.t ?? q.end;
    const items: SeriesRecord[] = [];
    const take = (records: SeriesRecord[]) => {
      for (const r of records) {
        if (items.length === q.limit) return;
        if (after && r.time === after.t && byteOrder(memberOf(r), after.m) >= 0) continue;
        if (q.where && r.dimensions[q.where.dimension] !== q.where.value) continue;
        items.push(r);
      }
    };
    let perItem = 1;
    let read = 0;
    for (const day of dayStarts(q.start, end)) {
      let startKey: Record<string, unknown> | undefined;
      let group: Record<string, unknown>[] = [];
      do {
        const res = await this.props.client.send(
          new QueryCommand({
            TableName: this.props.tableName,
            KeyConditionExpression: 'pk = :pk AND #bucket BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#bucket': 'bucket' },
            ExpressionAttributeValues: {
              ':pk': partitionKey(q.series, q.deviceId, day),
              ':from': sortKey(bucketStart(Math.max(q.start, day))),
              ':to': `${sortKey(bucketStart(Math.min(end, day + DAY_MS - 1)))}~`,
            },
            ScanIndexForward: false,
            Limit: Math.min(100, Math.ceil((q.limit - items.length) / perItem) + 1),
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of res.Items ?? []) {
          // a bucket's overflow items (`bucket#offset`) come before the bucket itself: read them all, then hand out
          if (group.length && bucketOf(group[0]!) !== bucketOf(item)) {
            take(await this.records(q, group, q.start, end));
            group = [];
          }
          group.push(item);
          read++;
        }
        perItem = Math.max(1, items.length / Math.max(1, read));
        startKey = res.LastEvaluatedKey;
      } while (startKey && items.length < q.limit);
      if (group.length && items.length < q.limit) take(await this.records(q, group, q.start, end));
      if (items.length === q.limit) {
        const last = items.at(-1)!;
        return { items, next: encodeToken({ t: last.time, m: memberOf(last) } satisfies Cursor) };
      }
    }
    return { items };
  }

  /** A bucket's samples in [start, end], newest first, each sample's records by member, highest first. */
  private async records(q: SeriesQuery, group: Record<string, unknown>[], start: number, end: number): Promise<SeriesRecord[]> {
    const base = Number(bucketOf(group[0]!));
    const samples = new Map<number, PackedSample>();
    for (const item of group) {
      for (const [name, value] of Object.entries(item)) if (!KEYS.has(name)) samples.set(base + Number(name), value as PackedSample);
    }
    const out: SeriesRecord[] = [];
    for (const time of [...samples.keys()].sort((a, b) => b - a)) {
      if (time < start || time > end) continue;
      const packed = samples.get(time)!;
      const template = await this.template(q, packed[0]);
      const records = unpack({ series: q.series, deviceId: q.deviceId, time }, template, packed);
      out.push(...records.sort((a, b) => byteOrder(memberOf(b), memberOf(a))));
    }
    return out;
  }

  private async template(q: SeriesQuery, id: string): Promise<Template> {
    const pk = templatesKey(q.series, q.deviceId);
    if (!this.templates.has(`${pk}#${id}`)) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const res = await this.props.client.send(
          new QueryCommand({ TableName: this.props.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ExclusiveStartKey: startKey }),
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

  private async writeBucket(b: BucketWrite): Promise<void> {
    const entries = Object.entries(b.samples);
    for (let i = 0; i < entries.length; i += SAMPLES_PER_UPDATE) {
      const chunk = entries.slice(i, i + SAMPLES_PER_UPDATE);
      try {
        await this.update(b.key, chunk, b.expiresAt);
      } catch (err) {
        if (!isItemTooLarge(err)) throw err;
        // the bucket is full (400 KB): each of these samples gets an item of its own beside it
        for (const entry of chunk) await this.update({ pk: b.key.pk, bucket: `${b.key.bucket}#${entry[0]}` }, [entry], b.expiresAt);
      }
    }
  }

  private update(key: BucketWrite['key'], samples: [string, PackedSample][], expiresAt: number) {
    return this.props.client.send(
      new UpdateCommand({
        TableName: this.props.tableName,
        Key: key,
        // the first sample of a time is kept: a redelivery writes nothing new, another reading of that time (the HTTP
        // fallback's beside the device's own) never silently replaces it (Timestream refuses such a record too)
        UpdateExpression: `SET expiresAt = :expiresAt, ${samples.map((_, i) => `#s${i} = if_not_exists(#s${i}, :s${i})`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(samples.map(([name], i) => [`#s${i}`, name])),
        ExpressionAttributeValues: { ':expiresAt': expiresAt, ...Object.fromEntries(samples.map(([, value], i) => [`:s${i}`, value])) },
      }),
    );
  }
}

function cursorOf(token: string, q: SeriesQuery): Cursor {
  const c = decodeToken<Partial<Cursor>>(token);
  if (typeof c.t !== 'number' || typeof c.m !== 'string' || c.t < q.start || c.t > q.end) {
    throw new ValidationError('next', 'next: the page token does not belong to this time range');
  }
  return { t: c.t, m: c.m };
}

/** DynamoDB's order of string keys (UTF-8 bytes), which the old one-item-per-record layout returned. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const isItemTooLarge = (err: unknown) =>
  (err as Error).name === 'ValidationException' && /item size/i.test((err as Error).message);
const bucketOf = (item: Record<string, unknown>) => (item.bucket as string).slice(0, 14);
const bucketStart = (time: number) => Math.floor(time / BUCKET_MS) * BUCKET_MS;
const day = (time: number) => new Date(time).toISOString().slice(0, 10);
const partitionKey = (series: string, deviceId: string, time: number) => `${series}#${deviceId}#${day(time)}`;
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
