// Device registry on DynamoDB (`tables.devices`): VENs, gateways and Winter River nodes.
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from './dynamo.js';
import { decodeToken, encodeToken } from './page-token.js';
import type { Device, DeviceKind, DeviceRegistry, Page } from './ports.js';

export class DynamoDeviceRegistry implements DeviceRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordHeartbeat(kind: DeviceKind, deviceId: string, at: number, latest: Record<string, unknown>) {
    const iso = new Date(at).toISOString();
    await conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { deviceId },
          UpdateExpression:
            'SET #kind = :kind, lastSeen = :iso, latestAt = :at, latest = :latest, #online = :true, firstSeen = if_not_exists(firstSeen, :iso)',
          ConditionExpression: 'attribute_not_exists(latestAt) OR latestAt <= :at',
          ExpressionAttributeNames: { '#kind': 'kind', '#online': 'online' },
          ExpressionAttributeValues: { ':kind': kind, ':iso': iso, ':at': at, ':latest': latest, ':true': true },
        }),
      ),
    );
  }

  async recordPresence(deviceId: string, online: boolean, at: number) {
    await conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { deviceId },
          UpdateExpression: `SET #online = :online, presenceAt = :at, ${online ? 'connectedAt' : 'disconnectedAt'} = :iso`,
          ConditionExpression: 'attribute_not_exists(presenceAt) OR presenceAt <= :at',
          ExpressionAttributeNames: { '#online': 'online' },
          ExpressionAttributeValues: { ':online': online, ':at': at, ':iso': new Date(at).toISOString() },
        }),
      ),
    );
  }

  async get(deviceId: string): Promise<Device | undefined> {
    const res = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { deviceId } }));
    return res.Item ? toDevice(res.Item) : undefined;
  }

  async list(kind: DeviceKind, page: { limit: number; next?: string; online?: boolean }): Promise<Page<Device>> {
    const items: Device[] = [];
    let key = page.next ? decodeToken<Record<string, unknown>>(page.next) : undefined;
    do {
      const res = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byKind',
          KeyConditionExpression: '#kind = :kind',
          ExpressionAttributeNames: { '#kind': 'kind', ...(page.online !== undefined && { '#online': 'online' }) },
          ExpressionAttributeValues: { ':kind': kind, ...(page.online !== undefined && { ':online': page.online }) },
          ...(page.online !== undefined && { FilterExpression: '#online = :online' }),
          Limit: page.limit - items.length,
          ExclusiveStartKey: key,
        }),
      );
      items.push(...(res.Items ?? []).map(toDevice));
      key = res.LastEvaluatedKey;
    } while (key && items.length < page.limit);
    return { items, ...(key && { next: encodeToken(key) }) };
  }
}

function toDevice(item: Record<string, unknown>): Device {
  return {
    deviceId: item.deviceId as string,
    kind: item.kind as DeviceKind | undefined,
    online: item.online === true,
    firstSeen: item.firstSeen as string | undefined,
    lastSeen: item.lastSeen as string | undefined,
    latest: item.latest as Record<string, unknown> | undefined,
  };
}
