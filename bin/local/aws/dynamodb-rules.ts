// A proxy in front of the local DynamoDB (dynalite, always strongly consistent, never throttling) that holds
// DynamoDB's rules. It runs in dynalite's worker thread (bundled; Node only).
//
// Eventual consistency: before a write is applied, the item's image before it is kept (from the write's own ALL_OLD
// return values, or a consistent read) with the time it becomes visible (its answer + the lag). Until then an
// eventually consistent GetItem / BatchGetItem returns that older image (or no item), and a Query or Scan without
// ConsistentRead, and every global secondary index query, puts the older image in the written item's place or drops
// it (when it did not exist, or sat under other index keys). Several writes of one item within the lag become visible
// one after another. Fault mode: see aws-rules.ts.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { FaultDice, type AwsRules } from './aws-rules.js';
import { readBody, reply, replyError, upstreamCaller, type Answer, type Json, type Upstream } from './proxy-http.js';

type Item = Record<string, unknown>;
interface Pending {
  readonly until: number;
  readonly before: Item | null;
}
interface KeySchema {
  readonly keys: readonly string[];
  readonly indexes: ReadonlyMap<string, readonly string[]>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const THROTTLED = 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException';
const THROTTLED_MESSAGE =
  'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html';
const DATA_PLANE = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
]);

export function dynamoRulesHandler(
  upstream: Upstream,
  rules: AwsRules,
): (req: IncomingMessage, res: ServerResponse) => void {
  const call = upstreamCaller(upstream);
  const dice = rules.faults && new FaultDice(rules.faults.seed);
  const schemas = new Map<string, Promise<KeySchema>>();
  const recent = new Map<string, Map<string, Pending[]>>();
  const lag = rules.lagMs;

  const schemaOf = (headers: IncomingHttpHeaders, table: string): Promise<KeySchema> => {
    let s = schemas.get(table);
    if (!s) {
      s = call(headers, JSON.stringify({ TableName: table }), 'DynamoDB_20120810.DescribeTable').then((a) => {
        if (a.status !== 200) throw new Error(`DescribeTable ${table}: ${a.status}`);
        const t = (JSON.parse(a.body.toString()) as { Table: TableDescription }).Table;
        return {
          keys: t.KeySchema.map((k) => k.AttributeName),
          indexes: new Map(
            (t.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i.KeySchema.map((k) => k.AttributeName)]),
          ),
        };
      });
      s.catch(() => schemas.delete(table));
      schemas.set(table, s);
    }
    return s;
  };
  const keyOf = (schema: KeySchema, item: Item): string | undefined => {
    const parts = schema.keys.map((k) => item[k]);
    return parts.some((p) => p === undefined) ? undefined : JSON.stringify(parts);
  };
  const remember = (table: string, key: string, before: Item | null) => {
    if (lag <= 0) return;
    let t = recent.get(table);
    if (!t) recent.set(table, (t = new Map()));
    const list = t.get(key);
    const entry = { until: Date.now() + lag, before };
    if (list) list.push(entry);
    else t.set(key, [entry]);
  };
  /** The image an eventually consistent read sees now, when it is not the current one. */
  const stale = (table: string, key: string): Pending | undefined => {
    const list = recent.get(table)?.get(key);
    if (!list) return undefined;
    const now = Date.now();
    while (list.length > 0 && list[0]!.until <= now) list.shift();
    if (list.length === 0) {
      recent.get(table)!.delete(key);
      return undefined;
    }
    return list[0];
  };
  const sweep = setInterval(() => {
    for (const [table, keys] of recent) {
      for (const key of keys.keys()) stale(table, key);
      if (keys.size === 0) recent.delete(table);
    }
  }, 1000);
  sweep.unref();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.slice(target.indexOf('.') + 1);
    const forward = async () => reply(res, await call(req.headers, raw));
    if (op === 'CreateTable' || op === 'DeleteTable' || op === 'UpdateTable') {
      schemas.clear();
      recent.clear();
      return forward();
    }
    if (!DATA_PLANE.has(op)) return forward();
    let input: Json;
    try {
      input = JSON.parse(raw.toString()) as Json;
    } catch {
      return forward();
    }
    if (dice?.hits(`throttle|${op}|${raw.toString()}`, rules.faults!.dynamodbThrottle)) {
      return replyError(res, CONTENT_TYPE, THROTTLED, THROTTLED_MESSAGE);
    }
    // once a write went to the emulator, it is never sent again (a failure after it is the answer)
    const state = { wrote: false };
    const send = async (body: Json) => {
      state.wrote = true;
      return call(req.headers, JSON.stringify(body));
    };
    const parse = (a: Answer) => JSON.parse(a.body.toString()) as Json;
    try {
      switch (op) {
        case 'PutItem':
        case 'DeleteItem':
        case 'UpdateItem': {
          const table = input.TableName as string;
          const schema = await schemaOf(req.headers, table);
          const key = keyOf(schema, (op === 'PutItem' ? input.Item : input.Key) as Item);
          const asked = (input.ReturnValues as string | undefined) ?? 'NONE';
          if (key === undefined || lag <= 0) return forward();
          if (asked === 'NONE' || asked === 'ALL_OLD') {
            const a = await send({ ...input, ReturnValues: 'ALL_OLD' });
            if (a.status !== 200) return reply(res, a);
            const out = parse(a);
            remember(table, key, (out.Attributes as Item | undefined) ?? null);
            if (asked === 'NONE') delete out.Attributes;
            return reply(res, a, out);
          }
          const before = await consistentGet(req.headers, table, input.Key as Item);
          state.wrote = true;
          const a = await call(req.headers, raw);
          if (a.status === 200) remember(table, key, before);
          return reply(res, a);
        }
        case 'BatchWriteItem':
          return await batchWrite(req.headers, input, res, state);
        case 'BatchGetItem':
          return await batchGet(req.headers, input, res);
        case 'GetItem': {
          const a = await call(req.headers, raw);
          if (a.status !== 200 || input.ConsistentRead === true) return reply(res, a);
          const table = input.TableName as string;
          const key = keyOf(await schemaOf(req.headers, table), input.Key as Item);
          const old = key === undefined ? undefined : stale(table, key);
          if (!old) return reply(res, a);
          const out = parse(a);
          if (old.before) out.Item = project(old.before, input);
          else delete out.Item;
          return reply(res, a, out);
        }
        case 'Query':
        case 'Scan': {
          const a = await call(req.headers, raw);
          const table = input.TableName as string;
          const index = input.IndexName as string | undefined;
          if (a.status !== 200 || (input.ConsistentRead === true && !index) || !recent.has(table)) return reply(res, a);
          const schema = await schemaOf(req.headers, table);
          const indexKeys = index ? schema.indexes.get(index) : undefined;
          const out = parse(a);
          const items = out.Items as Item[] | undefined;
          if (!items) return reply(res, a);
          let changed = false;
          const seen: Item[] = [];
          for (const item of items) {
            const key = keyOf(schema, item);
            const old = key === undefined ? undefined : stale(table, key);
            if (!old) {
              seen.push(item);
              continue;
            }
            changed = true;
            const sameIndexKeys =
              !indexKeys || indexKeys.every((k) => JSON.stringify(old.before?.[k]) === JSON.stringify(item[k]));
            if (old.before && sameIndexKeys) seen.push(project(old.before, input));
          }
          if (!changed) return reply(res, a);
          out.Items = seen;
          out.Count = seen.length;
          return reply(res, a, out);
        }
      }
    } catch (err) {
      if (state.wrote) throw err;
      // a request this model cannot read (dynalite will refuse it) or a lookup that failed: as the emulator answers
    }
    return forward();
  }

  async function consistentGet(headers: IncomingHttpHeaders, table: string, key: Item): Promise<Item | null> {
    const a = await call(
      headers,
      JSON.stringify({ TableName: table, Key: key, ConsistentRead: true }),
      'DynamoDB_20120810.GetItem',
    );
    if (a.status !== 200) throw new Error(`GetItem ${table}: ${a.status}`);
    return ((JSON.parse(a.body.toString()) as Json).Item as Item | undefined) ?? null;
  }

  async function batchWrite(
    headers: IncomingHttpHeaders,
    input: Json,
    res: ServerResponse,
    state: { wrote: boolean },
  ): Promise<void> {
    const requested = input.RequestItems as Record<string, WriteRequest[]>;
    const process: Record<string, WriteRequest[]> = {};
    const unprocessed: Record<string, WriteRequest[]> = {};
    const all = Object.entries(requested).flatMap(([table, reqs]) => reqs.map((r) => [table, r] as const));
    const keep = pickProcessed(all.map(([table, r]) => `BatchWriteItem|${table}|${JSON.stringify(r)}`));
    all.forEach(([table, r], i) => ((keep[i] ? process : unprocessed)[table] ??= []).push(r));
    // the images before, to show eventually consistent reads until the writes are visible
    const befores = new Map<string, Map<string, Item | null>>();
    if (lag > 0) {
      for (const [table, reqs] of Object.entries(process)) {
        const schema = await schemaOf(headers, table);
        const keys = reqs.map((r) => (r.PutRequest ? pickKeys(schema, r.PutRequest.Item) : r.DeleteRequest!.Key));
        befores.set(table, await consistentBatchGet(headers, table, schema, keys));
      }
    }
    state.wrote = true;
    const a = await call(headers, JSON.stringify({ ...input, RequestItems: process }));
    if (a.status !== 200) return reply(res, a);
    const out = JSON.parse(a.body.toString()) as Json;
    const left = (out.UnprocessedItems as Record<string, WriteRequest[]> | undefined) ?? {};
    for (const [table, reqs] of Object.entries(process)) {
      const schema = await schemaOf(headers, table);
      const leftKeys = new Set(
        (left[table] ?? []).map((r) => keyOf(schema, r.PutRequest ? r.PutRequest.Item : r.DeleteRequest!.Key)),
      );
      for (const r of reqs) {
        const key = keyOf(schema, r.PutRequest ? r.PutRequest.Item : r.DeleteRequest!.Key)!;
        if (!leftKeys.has(key) && befores.has(table)) remember(table, key, befores.get(table)!.get(key) ?? null);
      }
    }
    for (const [table, reqs] of Object.entries(unprocessed)) (left[table] ??= []).push(...reqs);
    out.UnprocessedItems = left;
    return reply(res, a, out);
  }

  async function batchGet(headers: IncomingHttpHeaders, input: Json, res: ServerResponse): Promise<void> {
    const requested = input.RequestItems as Record<string, KeysAndAttributes>;
    const all = Object.entries(requested).flatMap(([table, r]) => r.Keys.map((k) => [table, k] as const));
    const keep = pickProcessed(all.map(([table, k]) => `BatchGetItem|${table}|${JSON.stringify(k)}`));
    const process: Record<string, KeysAndAttributes> = {};
    const unprocessed: Record<string, KeysAndAttributes> = {};
    all.forEach(([table, k], i) => {
      const into = keep[i] ? process : unprocessed;
      (into[table] ??= { ...requested[table]!, Keys: [] }).Keys.push(k);
    });
    const a = await call(headers, JSON.stringify({ ...input, RequestItems: process }));
    if (a.status !== 200) return reply(res, a);
    const out = JSON.parse(a.body.toString()) as Json;
    const responses = (out.Responses as Record<string, Item[]> | undefined) ?? {};
    const left = (out.UnprocessedKeys as Record<string, KeysAndAttributes> | undefined) ?? {};
    for (const [table, r] of Object.entries(process)) {
      if (r.ConsistentRead === true || !recent.has(table)) continue;
      const schema = await schemaOf(headers, table);
      for (const k of r.Keys) {
        const key = keyOf(schema, k);
        const old = key === undefined ? undefined : stale(table, key);
        if (!old) continue;
        const items = (responses[table] ?? []).filter((item) => keyOf(schema, item) !== key);
        if (old.before) items.push(project(old.before, r as unknown as Json));
        responses[table] = items;
      }
    }
    for (const [table, r] of Object.entries(unprocessed)) {
      if (left[table]) left[table]!.Keys.push(...r.Keys);
      else left[table] = r;
    }
    out.Responses = responses;
    out.UnprocessedKeys = left;
    return reply(res, a, out);
  }

  async function consistentBatchGet(
    headers: IncomingHttpHeaders,
    table: string,
    schema: KeySchema,
    keys: Item[],
  ): Promise<Map<string, Item | null>> {
    const byKey = new Map<string, Item | null>();
    const unique = [...new Map(keys.map((k) => [keyOf(schema, k)!, k])).values()];
    for (let i = 0; i < unique.length; i += 100) {
      let pending: Item[] = unique.slice(i, i + 100);
      while (pending.length > 0) {
        const a = await call(
          headers,
          JSON.stringify({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
          'DynamoDB_20120810.BatchGetItem',
        );
        if (a.status !== 200) throw new Error(`BatchGetItem ${table}: ${a.status}`);
        const out = JSON.parse(a.body.toString()) as {
          Responses?: Record<string, Item[]>;
          UnprocessedKeys?: Record<string, KeysAndAttributes>;
        };
        for (const item of out.Responses?.[table] ?? []) byKey.set(keyOf(schema, item)!, item);
        pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
      }
    }
    for (const k of unique) if (!byKey.has(keyOf(schema, k)!)) byKey.set(keyOf(schema, k)!, null);
    return byKey;
  }

  /** Which of a batch's entries DynamoDB takes this time (fault mode: some are left, never all). */
  function pickProcessed(whats: string[]): boolean[] {
    if (!dice) return whats.map(() => true);
    const keep = whats.map((w) => !dice.hits(`unprocessed|${w}`, rules.faults!.unprocessed));
    if (keep.length > 0 && !keep.includes(true)) keep[0] = true;
    return keep;
  }

  return (req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent)
        replyError(res, CONTENT_TYPE, 'com.amazonaws.dynamodb.v20120810#InternalServerError', err.message);
      else res.destroy();
    });
  };
}

interface TableDescription {
  KeySchema: { AttributeName: string }[];
  GlobalSecondaryIndexes?: { IndexName: string; KeySchema: { AttributeName: string }[] }[];
}
interface WriteRequest {
  PutRequest?: { Item: Item };
  DeleteRequest?: { Key: Item };
}
interface KeysAndAttributes {
  Keys: Item[];
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  AttributesToGet?: string[];
}

const pickKeys = (schema: KeySchema, item: Item): Item => Object.fromEntries(schema.keys.map((k) => [k, item[k]]));

/** The item as the request's ProjectionExpression (or AttributesToGet) would have returned it. */
export function project(item: Item, input: Json): Item {
  const names = (input.ExpressionAttributeNames as Record<string, string> | undefined) ?? {};
  if (Array.isArray(input.AttributesToGet))
    return Object.fromEntries((input.AttributesToGet as string[]).filter((n) => n in item).map((n) => [n, item[n]]));
  if (typeof input.ProjectionExpression !== 'string') return item;
  const out: Item = {};
  for (const path of input.ProjectionExpression.split(',')) {
    const steps = path
      .trim()
      .split(/\.|(?=\[)/)
      .map((s) => (s.startsWith('[') ? Number(s.slice(1, -1)) : (names[s] ?? s)));
    copyPath(item, out, steps);
  }
  return out;
}

// attribute values are typed ({ M: {...} }, { L: [...] }): a path walks M by name and L by index
function copyPath(from: Item, to: Item, steps: (string | number)[]): void {
  const [first, ...rest] = steps;
  if (typeof first !== 'string' || !(first in from)) return;
  if (rest.length === 0) {
    to[first] = from[first];
    return;
  }
  const nested = nestedOf(from[first], rest);
  if (nested !== undefined) to[first] = merge(to[first], nested);
}

function nestedOf(value: unknown, steps: (string | number)[]): unknown {
  if (steps.length === 0) return value;
  const [step, ...rest] = steps;
  const v = value as { M?: Item; L?: unknown[] };
  if (typeof step === 'string' && v.M && step in v.M) {
    const inner = nestedOf(v.M[step], rest);
    return inner === undefined ? undefined : { M: { [step]: inner } };
  }
  if (typeof step === 'number' && v.L && step < v.L.length) {
    const inner = nestedOf(v.L[step], rest);
    return inner === undefined ? undefined : { L: [inner] };
  }
  return undefined;
}

function merge(a: unknown, b: unknown): unknown {
  const x = a as { M?: Item; L?: unknown[] } | undefined;
  const y = b as { M?: Item; L?: unknown[] };
  if (x?.M && y.M) {
    const m: Item = { ...x.M };
    for (const [k, v] of Object.entries(y.M)) m[k] = k in m ? merge(m[k], v) : v;
    return { M: m };
  }
  if (x?.L && y.L) return { L: [...x.L, ...y.L] };
  return b;
}
