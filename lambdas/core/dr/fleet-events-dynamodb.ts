// Fleet demand-response events on DynamoDB (`tables.fleetEvents`): one item per event, written once (then only marked
// settled), listed newest first through `byMonth` one UTC month at a time. The report stored at settlement sits beside
// it in the same table, Brotli-compressed JSON, under keys no event id can take (`/`, which the routes' ids cannot
// carry) and without `month`, so never listed: `<eventId>/report` (the report as served) and, when the per-VEN
// intervals are too many to serve inline, `<eventId>/report/<attempt>/<n>` (their parts, for the CSV). Each VEN's
// commitments to events are one more such item, `commit/<venId>`: their windows, rewritten whole on a version check
// (a read, then a put conditional on the version read), windows past their `until` dropped on each write.
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { monthsBack, newestFirst, walkBuckets } from '../common/bucket-pages.js';
import { batchGetAll, conditional } from '../common/dynamo.js';
import { checkStartKey } from '../common/page-token.js';
import { tables } from '../contracts/tables.js';
import {
  MAX_SCHEDULE_AHEAD_MS,
  type EventOutcome,
  type FleetEventRecord,
  type FleetEventStore,
  type StoredReport,
  type VenCommitment,
} from './fleet-event-store.js';

/** How far back the listing reads: two years of months. */
export const LISTED_MONTHS = 24;

const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7);

export class DynamoFleetEventStore implements FleetEventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    /** TTL: kept this long after it started. */
    private readonly retentionDays = 730,
  ) {}

  create(event: FleetEventRecord) {
    return conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            released: {},
            ...event,
            month: monthOf(event.startedAt),
            expiresAt: Math.floor(event.startedAt / 1000) + this.retentionDays * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(eventId)',
        }),
      ),
    );
  }

  async commit(c: VenCommitment, now: number) {
    for (let attempt = 0; ; attempt++) {
      const held = await this.readCommitments(c.venId);
      const windows = held.windows.filter((w) => w.until > now && w.eventId !== c.eventId);
      const inTheWay = windows.find((w) => overlaps(w, c.since, c.until));
      if (inTheWay) return inTheWay;
      if (await this.writeCommitments(c.venId, held.version, [...windows, c])) return undefined;
      await lostRace(attempt, c.venId);
    }
  }

  async release(venId: string, now: number) {
    const { windows } = await this.readCommitments(venId);
    const held = windows.find((w) => w.since <= now && w.until > now);
    if (!held) return undefined;
    // first the event's record of it, so that a crash in between leaves the VEN committed, never counted twice
    await conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { eventId: held.eventId },
          UpdateExpression: 'SET released.#ven = :at',
          ConditionExpression: 'attribute_exists(released) AND attribute_not_exists(released.#ven)',
          ExpressionAttributeNames: { '#ven': venId },
          ExpressionAttributeValues: { ':at': now },
        }),
      ),
    );
    await this.uncommit(venId, held.eventId);
    return held.eventId;
  }

  async uncommit(venId: string, eventId: string) {
    for (let attempt = 0; ; attempt++) {
      const held = await this.readCommitments(venId);
      if (!held.windows.some((w) => w.eventId === eventId)) return;
      if (
        await this.writeCommitments(
          venId,
          held.version,
          held.windows.filter((w) => w.eventId !== eventId),
        )
      )
        return;
      await lostRace(attempt, venId);
    }
  }

  async commitments(venIds: readonly string[], from: number, to = from + 1) {
    const found = new Map<string, VenCommitment>();
    const keys = venIds.map((id) => ({ eventId: commitKey(id) }));
    for (const item of await batchGetAll(this.client, this.tableName, keys, 'fleet event commitments', {
      consistentRead: true,
    })) {
      const first = windowsOf(item)
        .filter((w) => overlaps(w, from, to))
        .sort((a, b) => a.since - b.since)[0];
      if (first) found.set(first.venId, first);
    }
    return found;
  }

  /** A VEN's commitments as stored, and the version a write of them is conditional on (null: no item yet). */
  private async readCommitments(
    venId: string,
  ): Promise<{ windows: VenCommitment[]; version: number | null | 'legacy' }> {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { eventId: commitKey(venId) }, ConsistentRead: true }),
    );
    if (!res.Item) return { windows: [], version: null };
    return {
      windows: windowsOf(res.Item),
      version: typeof res.Item.version === 'number' ? res.Item.version : 'legacy',
    };
  }

  /** Writes a VEN's commitments unless another writer changed them since they were read at `version`: false then. */
  private writeCommitments(venId: string, version: number | null | 'legacy', windows: readonly VenCommitment[]) {
    const next = typeof version === 'number' ? version + 1 : 1;
    const last = windows.reduce((m, w) => Math.max(m, w.until), 0);
    return conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            eventId: commitKey(venId),
            venId,
            version: next,
            windows: windows.map((w) => ({ holder: w.eventId, since: w.since, until: w.until, shed_kw: w.shed_kw })),
            expiresAt: Math.ceil(last / 1000) + 86_400,
          },
          ...(version === null
            ? { ConditionExpression: 'attribute_not_exists(eventId)' }
            : version === 'legacy'
              ? { ConditionExpression: 'attribute_exists(eventId) AND attribute_not_exists(version)' }
              : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': version } }),
        }),
      ),
    );
  }

  launch(eventId: string, at: number, change: Pick<FleetEventRecord, 'allocations' | 'excluded' | 'shortfall_kw'>) {
    return conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { eventId },
          UpdateExpression:
            'SET launchedAt = :at, allocations = :allocations, excluded = :excluded, shortfall_kw = :shortfall',
          ConditionExpression:
            'attribute_exists(eventId) AND attribute_not_exists(launchedAt) AND attribute_not_exists(cancelledAt)',
          ExpressionAttributeValues: {
            ':at': at,
            ':allocations': change.allocations,
            ':excluded': change.excluded,
            ':shortfall': change.shortfall_kw,
          },
        }),
      ),
    );
  }

  cancel(eventId: string, at: number) {
    return conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { eventId },
          UpdateExpression: 'SET cancelledAt = :at',
          ConditionExpression:
            'attribute_exists(eventId) AND attribute_not_exists(launchedAt) AND attribute_not_exists(cancelledAt)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
    );
  }

  end(eventId: string, at: number) {
    return conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { eventId },
          UpdateExpression: 'SET endsAt = :at, endedAt = :at',
          ConditionExpression:
            '(attribute_exists(launchedAt) OR attribute_not_exists(scheduled)) AND startedAt <= :at AND endsAt > :at AND attribute_not_exists(cancelledAt)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
    );
  }

  /** Consistent: the caller polls the event it was just given the id of (the API's 202), which must not 404. */
  async get(eventId: string) {
    if (eventId.includes('/')) return undefined; // a stored report's key, not an event
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { eventId }, ConsistentRead: true }),
    );
    return res.Item && toRecord(res.Item);
  }

  async markSettled(eventId: string, at: number, outcome?: EventOutcome) {
    await conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { eventId },
          UpdateExpression: outcome ? 'SET settledAt = :at, outcome = :outcome' : 'SET settledAt = :at',
          ConditionExpression: 'attribute_exists(eventId) AND attribute_not_exists(settledAt)',
          ExpressionAttributeValues: { ':at': at, ...(outcome && { ':outcome': outcome }) },
        }),
      ),
    );
  }

  async putReport(event: FleetEventRecord, report: StoredReport) {
    const z = compress(report.report);
    if (z.length > MAX_ITEM_BYTES)
      throw new Error(`the report of ${event.eventId} is ${z.length} bytes compressed: too big for one item`);
    const expiresAt = Math.floor(event.startedAt / 1000) + this.retentionDays * 86_400;
    const parts = chunked(report.parts).flatMap(compressedParts);
    // under keys of this attempt's own: a racing attempt's parts never mix with these (the loser's are left to TTL)
    const attempt = randomUUID();
    const partKeys = parts.map((_, i) => `${event.eventId}/report/${attempt}/${i}`);
    await Promise.all(
      parts.map((part, i) =>
        this.client.send(
          new PutCommand({ TableName: this.tableName, Item: { eventId: partKeys[i], z: part, expiresAt } }),
        ),
      ),
    );
    return conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { eventId: `${event.eventId}/report`, z, parts: partKeys, expiresAt },
          ConditionExpression: 'attribute_not_exists(eventId)',
        }),
      ),
    );
  }

  /**
   * Consistent: settlement reads the report another sweep's conditional put just refused to replace, and writes the
   * CSV file from the report it has just put; an eventually consistent read may miss either.
   */
  async getReport(eventId: string, withParts: boolean): Promise<StoredReport | undefined> {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { eventId: `${eventId}/report` }, ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const report = decompress(res.Item.z) as Record<string, unknown>;
    const keys = (res.Item.parts ?? []) as string[];
    if (!withParts || keys.length === 0) return { report, parts: [] };
    const byKey = new Map<string, unknown[]>();
    // consistent: the parts are put just before the report that names them
    const items = await batchGetAll(
      this.client,
      this.tableName,
      keys.map((k) => ({ eventId: k })),
      'fleet event report',
      { consistentRead: true },
    );
    for (const item of items) byKey.set(item.eventId as string, decompress(item.z) as unknown[]);
    const missing = keys.filter((k) => !byKey.has(k));
    if (missing.length > 0)
      throw new Error(
        `the stored report of ${eventId} names ${missing.length} part(s) that are not stored: ${missing[0]}`,
      );
    return { report, parts: keys.flatMap((k) => byKey.get(k)!) };
  }

  async list(page: { limit: number; next?: string; since?: number }) {
    const months = monthsBack(this.now() + MAX_SCHEDULE_AHEAD_MS, LISTED_MONTHS + 1);
    const result = await walkBuckets(
      page.since === undefined ? months : months.filter((m) => m >= monthOf(page.since!)),
      newestFirst(this.client, (month) => ({
        TableName: this.tableName,
        IndexName: 'byMonth',
        KeyConditionExpression: '#month = :month',
        ExpressionAttributeNames: { '#month': 'month' },
        ExpressionAttributeValues: { ':month': month },
      })),
      page.limit,
      page.next,
      (month, key) => checkStartKey(key, tables.fleetEvents, 'byMonth', { partition: month }),
    );
    return { ...result, items: result.items.map(toRecord) };
  }
}

/** Compressed bytes per item, at most: far below DynamoDB's 400 KB with the keys. */
const MAX_ITEM_BYTES = 300_000;
/** JSON characters per part before compression: the per-VEN intervals compress well over 10:1. */
const PART_CHARS = 1_500_000;

const compress = (value: unknown) => {
  const json = JSON.stringify(value);
  return brotliCompressSync(json, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 6, [constants.BROTLI_PARAM_SIZE_HINT]: json.length },
  });
};
const decompress = (z: unknown) => JSON.parse(brotliDecompressSync(z as Uint8Array).toString('utf8')) as unknown;

/** A run of parts compressed: one item's worth, or halves (and so on) when it compresses worse than expected. */
function compressedParts(parts: unknown[]): Buffer[] {
  const z = compress(parts);
  if (z.length <= MAX_ITEM_BYTES) return [z];
  if (parts.length === 1) throw new Error(`one VEN's intervals are ${z.length} bytes compressed: too big for one item`);
  const half = Math.ceil(parts.length / 2);
  return [...compressedParts(parts.slice(0, half)), ...compressedParts(parts.slice(half))];
}

/** The parts in consecutive runs of about PART_CHARS of JSON each. */
function chunked(parts: readonly unknown[]): unknown[][] {
  const chunks: unknown[][] = [];
  let size = Infinity;
  for (const part of parts) {
    const length = JSON.stringify(part).length;
    if (size + length > PART_CHARS) {
      chunks.push([]);
      size = 0;
    }
    chunks.at(-1)!.push(part);
    size += length;
  }
  return chunks;
}

const commitKey = (venId: string) => `commit/${venId}`;
const toCommitment = (venId: string, w: Record<string, unknown>): VenCommitment => ({
  venId,
  eventId: w.holder as string,
  since: w.since as number,
  until: w.until as number,
  shed_kw: w.shed_kw as number,
});

/** A VEN's commitments item: its `windows`, or (written before there were windows) the one commitment it held. */
const windowsOf = (item: Record<string, unknown>): VenCommitment[] =>
  Array.isArray(item.windows)
    ? (item.windows as Record<string, unknown>[]).map((w) => toCommitment(item.venId as string, w))
    : [toCommitment(item.venId as string, item)];

const overlaps = (w: VenCommitment, from: number, to: number) => w.since < to && w.until > from;

/** Another writer changed the VEN's commitments between the read and the write: a short random wait, then again. */
async function lostRace(attempt: number, venId: string) {
  if (attempt >= MAX_COMMIT_ATTEMPTS)
    throw new Error(`the commitments of ${venId} kept changing (${MAX_COMMIT_ATTEMPTS} attempts)`);
  await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** Math.min(attempt, 5)));
}

const MAX_COMMIT_ATTEMPTS = 40;

/** The event as stored, without the listing's and TTL's attributes, and without `released` while nothing is. */
const toRecord = ({ month: _month, expiresAt: _expiresAt, released, ...event }: Record<string, unknown>) =>
  ({
    ...event,
    ...(released && Object.keys(released as object).length > 0 ? { released } : {}),
  }) as unknown as FleetEventRecord;
