// The asset and site inventory on DynamoDB (`tables.inventory`): one partition per kind, one row per asset or site.
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll, type BatchWriteRequest } from '../common/dynamo.js';
import type { Inventory, InventoryAsset, InventorySite } from '../contracts/inventory.js';
import { decodeStartKey, encodeToken } from '../common/page-token.js';
import { tables } from '../contracts/tables.js';
import type { InventoryStore } from './inventory-store.js';
import type { Page } from '../common/page.js';

type Kind = 'asset' | 'site';

export class DynamoInventoryStore implements InventoryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async replace(inventory: Inventory) {
    const rows = [
      ...inventory.sites.map((s) => ({ kind: 'site', id: s.site_id, ...s })),
      ...inventory.assets.map((a) => ({ kind: 'asset', id: a.asset_id, ...a })),
    ];
    const keep = new Set(rows.map((r) => `${r.kind}#${r.id}`));
    const stale = [...(await this.keys('site')), ...(await this.keys('asset'))].filter(
      (k) => !keep.has(`${k.kind}#${k.id}`),
    );
    await this.write([
      ...rows.map((Item): BatchWriteRequest => ({ PutRequest: { Item } })),
      ...stale.map((Key): BatchWriteRequest => ({ DeleteRequest: { Key } })),
    ]);
  }

  /** What `replace` would do, writing nothing: the rows (`kind:id`) it would create, replace and delete. */
  async plan(inventory: Inventory): Promise<{ create: string[]; replace: string[]; delete: string[] }> {
    const rows = [
      ...inventory.sites.map((s) => `site:${s.site_id}`),
      ...inventory.assets.map((a) => `asset:${a.asset_id}`),
    ];
    const existing = new Set(
      [...(await this.keys('site')), ...(await this.keys('asset'))].map((k) => `${k.kind}:${k.id}`),
    );
    const keep = new Set(rows);
    return {
      create: rows.filter((r) => !existing.has(r)),
      replace: rows.filter((r) => existing.has(r)),
      delete: [...existing].filter((k) => !keep.has(k)),
    };
  }

  async listAssets(page: { limit: number; next?: string }): Promise<Page<InventoryAsset>> {
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#kind = :kind',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ExpressionAttributeValues: { ':kind': 'asset' },
        Limit: page.limit,
        ExclusiveStartKey: page.next
          ? decodeStartKey(page.next, tables.inventory, undefined, { partition: 'asset' })
          : undefined,
      }),
    );
    return {
      items: (res.Items ?? []).map((i) => strip<InventoryAsset>(i)),
      ...(res.LastEvaluatedKey && { next: encodeToken(res.LastEvaluatedKey) }),
    };
  }

  getAsset(assetId: string) {
    return this.getRow<InventoryAsset>('asset', assetId);
  }

  getSite(siteId: string) {
    return this.getRow<InventorySite>('site', siteId);
  }

  private async getRow<T>(kind: Kind, id: string): Promise<T | undefined> {
    const res = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { kind, id } }));
    return res.Item ? strip<T>(res.Item) : undefined;
  }

  private async keys(kind: Kind): Promise<{ kind: string; id: string }[]> {
    const keys: { kind: string; id: string }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#kind = :kind',
          ExpressionAttributeNames: { '#kind': 'kind', '#id': 'id' },
          ExpressionAttributeValues: { ':kind': kind },
          ProjectionExpression: '#kind, #id',
          // consistent: a replace just before this one has put rows that may now be stale
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      keys.push(...(res.Items ?? []).map((i) => ({ kind: i.kind as string, id: i.id as string })));
      start = res.LastEvaluatedKey;
    } while (start);
    return keys;
  }

  /** BatchWriteItem in chunks of 25, resending what DynamoDB leaves unprocessed (with backoff, then failing loudly). */
  private write(requests: BatchWriteRequest[]) {
    return batchWriteAll(this.client, this.tableName, requests, 'inventory');
  }
}

function strip<T>(item: Record<string, unknown>): T {
  const { kind: _kind, id: _id, ...rest } = item;
  return rest as T;
}
