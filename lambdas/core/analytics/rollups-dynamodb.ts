// The rollups on DynamoDB (`tables.rollups`): a node's rows of one tier in one partition, `pk` = `{nodeId}#{tier}`,
// `sk` = the bucket's start (ISO), so a read is one Query; a row is put whole (recomputed, never incremented). Beside
// them the pass's own items: its watermark (`pk` = `pass`) and the late-data markers (`pk` = `dirty`, `sk` =
// `{bucket ISO}#{series}#{deviceId}`). TTL `expiresAt`: the archive retention.
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { batchGetAll, batchWriteAll, conditional } from '../common/dynamo.js';
import { decodeStartKey, encodeToken } from '../common/page-token.js';
import { tables } from '../contracts/tables.js';
import type { Page } from '../common/page.js';
import type { RollupRow, RollupSeries, Tier } from './rollups.js';

export interface DirtyMarker {
  readonly deviceId: string;
  readonly series: RollupSeries;
  /** The 15-minute bucket's start (ms). */
  readonly bucket: number;
  /** When it was (last) written: a marker rewritten meanwhile is not deleted by the pass that read the older one. */
  readonly at: number;
}

export interface RowRange {
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  readonly next?: string;
  readonly oldestFirst?: boolean;
  /** A strongly consistent read: sees every row put before it (the pass reads what it has just put). */
  readonly consistent?: boolean;
}

/** The rollups' port: rows per node and tier, the pass's watermark and the late-data markers. */
export interface RollupStore {
  put(nodeId: string, tier: Tier, rows: readonly RollupRow[]): Promise<void>;
  /** Rows with from ≤ start < to, newest first unless `oldestFirst`. */
  query(nodeId: string, tier: Tier, range: RowRange): Promise<Page<RollupRow>>;
  /** The 15-minute rows of these nodes at this bucket (absent: no data), read consistently. */
  intervals(nodeIds: readonly string[], bucket: number): Promise<Map<string, RollupRow>>;
  markDirty(markers: readonly Omit<DirtyMarker, 'at'>[], at: number): Promise<void>;
  dirty(limit: number): Promise<DirtyMarker[]>;
  /** Deletes the marker unless it was written again after `marker.at`. */
  clean(marker: DirtyMarker): Promise<void>;
  watermark(): Promise<number | undefined>;
  setWatermark(ms: number): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const PASS = { pk: 'pass', sk: 'watermark' };

type Item = Record<string, unknown>;

/** A row as it is stored (also what bench/rollup-cost.ts sizes). */
export const rollupItem = (nodeId: string, tier: Tier, r: RollupRow, expiresAt: number): Item => ({
  pk: `${nodeId}#${tier}`,
  sk: iso(r.start),
  end: r.end,
  n: r.samples,
  i: r.intervals,
  imp: r.importKwh,
  exp: r.exportKwh,
  kws: r.kwSum,
  peak: r.peakKw,
  on: r.onlineHours,
  ...(r.socMin !== undefined && { socMin: r.socMin }),
  socSum: r.socSum,
  socN: r.socN,
  ...(r.shedKwh !== undefined && { shed: r.shedKwh }),
  expiresAt,
});

const rowOf = (item: Item): RollupRow => ({
  start: Date.parse(item.sk as string),
  end: item.end as number,
  samples: item.n as number,
  intervals: item.i as number,
  importKwh: item.imp as number,
  exportKwh: item.exp as number,
  kwSum: item.kws as number,
  peakKw: item.peak as number,
  onlineHours: item.on as number,
  ...(item.socMin !== undefined && { socMin: item.socMin as number }),
  socSum: item.socSum as number,
  socN: item.socN as number,
  ...(item.shed !== undefined && { shedKwh: item.shed as number }),
});

export class DynamoRollupStore implements RollupStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async put(nodeId: string, tier: Tier, rows: readonly RollupRow[]) {
    const requests = rows.map((r) => ({
      PutRequest: { Item: rollupItem(nodeId, tier, r, Math.floor(r.end / 1000) + this.retentionDays * 86_400) },
    }));
    await batchWriteAll(this.client, this.tableName, requests, 'rollups');
  }

  async query(nodeId: string, tier: Tier, range: RowRange) {
    // `to` is exclusive: the last millisecond before it
    const condition = { partition: `${nodeId}#${tier}`, from: iso(range.from), to: iso(range.to - 1) };
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        ...(range.consistent && { ConsistentRead: true }),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': condition.partition, ':from': condition.from, ':to': condition.to },
        ScanIndexForward: range.oldestFirst ?? false,
        Limit: range.limit,
        ...(range.next && { ExclusiveStartKey: decodeStartKey(range.next, tables.rollups, undefined, condition) }),
      }),
    );
    return {
      items: (res.Items ?? []).map(rowOf),
      ...(res.LastEvaluatedKey && { next: encodeToken(res.LastEvaluatedKey) }),
    };
  }

  async intervals(nodeIds: readonly string[], bucket: number) {
    const out = new Map<string, RollupRow>();
    const sk = iso(bucket);
    const ids = [...new Set(nodeIds)]; // BatchGetItem refuses a key twice
    // consistent: the pass reads the rows it has just put
    const items = await batchGetAll(
      this.client,
      this.tableName,
      ids.map((id) => ({ pk: `${id}#15m`, sk })),
      'rollups',
      { consistentRead: true },
    );
    for (const item of items) out.set((item.pk as string).slice(0, -'#15m'.length), rowOf(item));
    return out;
  }

  async markDirty(markers: readonly Omit<DirtyMarker, 'at'>[], at: number) {
    // PutItem one by one: late samples are rare, and the rule Lambdas may only put
    await Promise.all(
      markers.map((m) =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk: 'dirty',
              sk: `${iso(m.bucket)}#${m.series}#${m.deviceId}`,
              at,
              expiresAt: Math.floor(at / 1000) + this.retentionDays * 86_400,
            },
          }),
        ),
      ),
    );
  }

  async dirty(limit: number) {
    const out: DirtyMarker[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'dirty' },
          Limit: Math.min(1000, limit - out.length),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of res.Items ?? []) {
        const [bucket, series, ...device] = (item.sk as string).split('#');
        out.push({
          bucket: Date.parse(bucket!),
          series: series as RollupSeries,
          deviceId: device.join('#'),
          at: item.at as number,
        });
      }
      start = res.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  async clean(marker: DirtyMarker) {
    await conditional(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: 'dirty', sk: `${iso(marker.bucket)}#${marker.series}#${marker.deviceId}` },
          ConditionExpression: '#at = :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': marker.at },
        }),
      ),
    );
  }

  async watermark() {
    const res = await this.client.send(new GetCommand({ TableName: this.tableName, Key: PASS, ConsistentRead: true }));
    return res.Item?.closedUntil as number | undefined;
  }

  async setWatermark(ms: number) {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...PASS, closedUntil: ms } }));
  }
}
