// Device registry on DynamoDB (`tables.devices`): VENs, gateways and Winter River nodes, two items each. The identity
// (`part` = identity: kind, firstSeen) is written once and carries the `byKind` index key, sharded (`ven#07`); the
// state (`part` = state: connected and presenceAt from presence events; lastSeen, seenAt, reportIntervalMs, latest from
// heartbeats) takes every heartbeat and presence event and is in no index, so a heartbeat is one unindexed write and
// no index partition takes every device's. `online` is not stored: it is judged when read (isOnline).
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, conditional } from '../common/dynamo.js';
import { ValidationError } from '../contracts/errors.js';
import { decodeToken, encodeToken } from '../common/page-token.js';
import type { Device, DeviceKind, DeviceRegistry } from './registry.js';
import type { Page } from '../common/page.js';
import { foldSession, type PresenceChange, type Session } from './sessions.js';
import { SHARDS, ShardMerge, shardKey, shardKeys } from '../common/shards.js';

type Item = Record<string, unknown>;
const IDENTITY = 'identity';
const STATE = 'state';
const BATCH_GET = 100;

export class DynamoDeviceRegistry implements DeviceRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** The clock `online` is judged by. */
    private readonly now: () => number = Date.now,
  ) {}

  async recordHeartbeat(
    kind: DeviceKind,
    deviceId: string,
    at: number,
    latest: Record<string, unknown>,
    seen: number | null = at,
  ) {
    const received = seen ?? Date.now();
    const values = { ':iso': new Date(received).toISOString(), ...(seen !== null && { ':seen': seen }) };
    const seenSet = `lastSeen = :iso${seen !== null ? ', seenAt = :seen' : ''}`;
    let before: Item | undefined;
    const applied = await conditional(async () => {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { deviceId, part: STATE },
          UpdateExpression: `SET ${seenSet}, latestAt = :at, latest = :latest`,
          ConditionExpression: 'attribute_not_exists(latestAt) OR latestAt <= :at',
          ExpressionAttributeValues: { ...values, ':at': at, ':latest': latest },
          ReturnValues: 'ALL_OLD',
        }),
      );
      before = res.Attributes;
    });
    if (!applied) {
      // an older sample (backfill): it says nothing newer about the device, but the device was heard now
      await conditional(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { deviceId, part: STATE },
            UpdateExpression: `SET ${seenSet}`,
            ConditionExpression: 'attribute_not_exists(lastSeen) OR lastSeen < :iso',
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return;
    }
    if (seen !== null) await this.learnInterval(deviceId, seen, at, before);
    if (before?.registered !== true) await this.register(kind, deviceId, new Date(received).toISOString());
  }

  /**
   * The device's reporting interval, learnt from the gaps between the heartbeats it sends over its connection
   * (smoothed, each gap capped): written only when it moves by more than a tenth, so a steady device costs no write.
   * A gap is the longer of the two heard apart and the two sampled apart: an offline buffer drained on reconnect
   * arrives milliseconds apart but was sampled its interval apart, and must not teach milliseconds (the device would
   * read offline until its next few heartbeats taught the interval back).
   */
  private async learnInterval(deviceId: string, seen: number, at: number, before: Item | undefined) {
    const last = before?.seenAt;
    if (typeof last !== 'number' || seen <= last) return;
    const sampledGap = typeof before?.latestAt === 'number' ? at - before.latestAt : 0;
    const gap = Math.min(Math.max(seen - last, sampledGap), MAX_REPORT_INTERVAL_MS);
    const known = typeof before?.reportIntervalMs === 'number' ? before.reportIntervalMs : undefined;
    const interval = known === undefined ? gap : Math.round(0.75 * known + 0.25 * gap);
    if (known !== undefined && Math.abs(interval - known) <= known / 10) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { deviceId, part: STATE },
        UpdateExpression: 'SET reportIntervalMs = :interval',
        ExpressionAttributeValues: { ':interval': interval },
      }),
    );
  }

  /**
   * The presence (`connected`, unless a newer event was already applied) and the recent sessions (every event, matched
   * by session id): read, folded, written back under the item's `presenceRev`, re-read if another event got there first.
   */
  async recordPresence(
    deviceId: string,
    online: boolean,
    at: number,
    session: Omit<PresenceChange, 'online' | 'at'> = {},
  ) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const res = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { deviceId, part: STATE }, ConsistentRead: true }),
      );
      const item = res.Item;
      const rev = typeof item?.presenceRev === 'number' ? item.presenceRev : 0;
      const newer = !(typeof item?.presenceAt === 'number' && item.presenceAt > at);
      const sessions = foldSession((item?.sessions as Session[] | undefined) ?? [], { online, at, ...session });
      if (!newer && !sessions) return;
      const sets = [
        'presenceRev = :next',
        ...(newer
          ? ['connected = :connected', 'presenceAt = :at', `${online ? 'connectedAt' : 'disconnectedAt'} = :iso`]
          : []),
        ...(sessions ? ['sessions = :sessions'] : []),
      ];
      const applied = await conditional(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { deviceId, part: STATE },
            // `connected` is the presence; whether the device is online is decided when it is read (isOnline)
            UpdateExpression: `SET ${sets.join(', ')}${newer ? ' REMOVE #online' : ''}`,
            ConditionExpression: rev === 0 ? 'attribute_not_exists(presenceRev)' : 'presenceRev = :rev',
            ...(newer && { ExpressionAttributeNames: { '#online': 'online' } }),
            ExpressionAttributeValues: {
              ':next': rev + 1,
              ...(rev !== 0 && { ':rev': rev }),
              ...(newer && { ':connected': online, ':at': at, ':iso': new Date(at).toISOString() }),
              ...(sessions && { ':sessions': sessions }),
            },
          }),
        ),
      );
      if (applied) return;
    }
    throw new Error(`presence of ${deviceId}: too many concurrent updates (retried)`);
  }

  async get(deviceId: string): Promise<Device | undefined> {
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'deviceId = :id',
        ExpressionAttributeValues: { ':id': deviceId },
      }),
    );
    const items = res.Items ?? [];
    if (!items.length) return undefined;
    return toDevice(
      deviceId,
      items.find((i) => i.part === IDENTITY),
      items.find((i) => i.part === STATE),
      this.now(),
    );
  }

  /** In deviceId order, the shards merged; a page of n costs one Query per shard and one BatchGet per 100 devices. */
  async list(kind: DeviceKind, page: { limit: number; next?: string; online?: boolean }): Promise<Page<Device>> {
    const after = page.next ? afterOf(page.next) : undefined;
    const now = this.now();
    const merge = new ShardMerge(
      shardKeys(kind),
      (shard, startKey, limit) => this.shard(shard, after, startKey, limit),
      (a, b) => ((a.deviceId as string) < (b.deviceId as string) ? -1 : 1),
      (i) => ({ deviceId: i.deviceId, part: i.part, kindShard: i.kindShard }),
      Math.ceil((1.5 * page.limit) / SHARDS) + 1,
    );
    const items: Device[] = [];
    let last: string | undefined;
    while (items.length < page.limit && !merge.exhausted) {
      const identities = await merge.take(page.limit - items.length);
      const states = await this.states(identities.map((i) => i.deviceId as string));
      for (const identity of identities) {
        last = identity.deviceId as string;
        const device = toDevice(last, identity, states.get(last), now);
        if (page.online === undefined || device.online === page.online) items.push(device);
      }
    }
    return { items, ...(last && !merge.exhausted && { next: encodeToken({ after: last }) }) };
  }

  /** Written once per device, after its first state write: the only write that touches the index. */
  private async register(kind: DeviceKind, deviceId: string, iso: string) {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { deviceId, part: IDENTITY },
        UpdateExpression: 'SET #kind = :kind, kindShard = :shard, firstSeen = if_not_exists(firstSeen, :iso)',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ExpressionAttributeValues: { ':kind': kind, ':shard': shardKey(kind, deviceId), ':iso': iso },
      }),
    );
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { deviceId, part: STATE },
        UpdateExpression: 'SET registered = :true',
        ExpressionAttributeValues: { ':true': true },
      }),
    );
  }

  private async shard(shard: string, after: string | undefined, startKey: Item | undefined, limit: number) {
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byKind',
        KeyConditionExpression: `kindShard = :shard${after ? ' AND deviceId > :after' : ''}`,
        ExpressionAttributeValues: { ':shard': shard, ...(after && { ':after': after }) },
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    return { items: res.Items ?? [], lastKey: res.LastEvaluatedKey };
  }

  private async states(deviceIds: string[]): Promise<Map<string, Item>> {
    const states = new Map<string, Item>();
    const chunks = [];
    for (let i = 0; i < deviceIds.length; i += BATCH_GET) chunks.push(deviceIds.slice(i, i + BATCH_GET));
    await Promise.all(
      chunks.map(async (ids) => {
        const items = await batchGetAll(
          this.client,
          this.tableName,
          ids.map((deviceId) => ({ deviceId, part: STATE })),
          'registry',
        );
        for (const item of items) states.set(item.deviceId as string, item);
      }),
    );
    return states;
  }
}

function afterOf(token: string): string {
  const { after } = decodeToken<{ after?: unknown }>(token);
  if (typeof after !== 'string') throw new ValidationError('next', 'next: not a page token this API issued');
  return after;
}

function toDevice(deviceId: string, identity: Item | undefined, state: Item | undefined, now: number): Device {
  const reportIntervalMs = reportIntervalOf(state);
  return {
    deviceId,
    kind: identity?.kind as DeviceKind | undefined,
    online: isOnline(state, now),
    firstSeen: identity?.firstSeen as string | undefined,
    lastSeen: state?.lastSeen as string | undefined,
    ...(state && { reportIntervalMs }),
    latest: state?.latest as Record<string, unknown> | undefined,
    ...(Array.isArray(state?.sessions) && { sessions: state.sessions as Session[] }),
  };
}

/** The reporting interval assumed until a device's own is learnt: the agent's economy profile sends a batch a minute. */
export const DEFAULT_REPORT_INTERVAL_MS = 60_000;
/** No gap counts for more than this when the interval is learnt (a device back from an outage is not a slow one). */
export const MAX_REPORT_INTERVAL_MS = 10 * 60_000;
/** Slack on top of two intervals: the ingest stream's batching and the handler's own time. */
export const ONLINE_MARGIN_MS = 15_000;

const reportIntervalOf = (state: Item | undefined): number =>
  typeof state?.reportIntervalMs === 'number' && state.reportIntervalMs > 0
    ? state.reportIntervalMs
    : DEFAULT_REPORT_INTERVAL_MS;

/**
 * Online = presence says connected (the newest connect/disconnect event, `connected`; `online` on items from before)
 * AND the device was heard over its connection (a heartbeat's receive time, or its connect) within two of its
 * reporting intervals: a device silent that long is offline whatever the presence events say (a broker killed with
 * -9 sends no disconnects). Heartbeats never set it; the HTTP fallback's readings are not heard over a connection.
 */
export function isOnline(state: Item | undefined, now: number): boolean {
  const connected = state?.connected ?? state?.online;
  if (connected !== true) return false;
  const heard = Math.max(Number(state?.seenAt ?? 0), Number(state?.presenceAt ?? 0));
  return now - heard <= 2 * reportIntervalOf(state) + ONLINE_MARGIN_MS;
}
