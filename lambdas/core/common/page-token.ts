// Opaque pagination tokens: base64url JSON. A token this API did not issue for the request at hand is a 400 on
// `next`, never a DynamoDB ValidationException: the API binds each token to its route and query (`bindToken`), and
// an adapter checks a start key against its table's key schema and its Query's key condition (`checkStartKey`).
import { createHash } from 'node:crypto';
import { ValidationError } from '../contracts/errors.js';
import type { TableDefinition } from '../contracts/tables.js';

const NOT_ISSUED = 'next: not a page token this API issued';

export const refuseToken = (why?: string): never => {
  throw new ValidationError('next', why ? `${NOT_ISSUED} (${why})` : NOT_ISSUED);
};

export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeToken<T extends object>(token: string): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as T;
  } catch {
    // falls through to the error below
  }
  return refuseToken();
}

/** The scope's digest, then the store's token: `.` is not in the base64url alphabet, so the split is unambiguous. */
export function bindToken(scope: string, token: string): string {
  return `${scopeDigest(scope)}.${token}`;
}

/** The store's token inside `token`, when `token` was bound to this scope; a ValidationError naming `next` otherwise. */
export function unbindToken(scope: string, token: string): string {
  const dot = token.indexOf('.');
  if (dot < 0 || token.slice(0, dot) !== scopeDigest(scope))
    return refuseToken('it was issued for another route, item or query');
  return token.slice(dot + 1);
}

const scopeDigest = (scope: string) =>
  createHash('sha256').update(scope).digest().subarray(0, 12).toString('base64url');

/** What a Query's key condition allows: its partition key's value, and the bounds (inclusive) on its sort key. */
export interface KeyCondition {
  readonly partition: string | number;
  readonly from?: string | number;
  readonly to?: string | number;
}

type Key = Record<string, unknown>;

/** DynamoDB's key size limits (UTF-8 bytes): partition 2048, sort 1024. */
const MAX_KEY_BYTES = { partition: 2048, sort: 1024 };

/**
 * `key` as an ExclusiveStartKey of a Query on `table` (or its index `indexName`) under `condition`: exactly the key
 * attributes of the table and the index, each of its schema type and size, in the queried partition and within the
 * sort key's bounds. Anything else would be a DynamoDB ValidationException (a 500); here it is a 400 naming `next`.
 */
export function checkStartKey(
  key: unknown,
  table: TableDefinition,
  indexName: string | undefined,
  condition: KeyCondition,
): Key {
  if (!key || typeof key !== 'object' || Array.isArray(key)) return refuseToken();
  const index = indexName === undefined ? undefined : table.indexes?.find((i) => i.name === indexName);
  if (indexName !== undefined && !index) throw new Error(`page token: ${indexName} is not an index of its table`);
  const parts = [
    [table.partitionKey, 'partition'],
    [table.sortKey, 'sort'],
    [index?.partitionKey, 'partition'],
    [index?.sortKey, 'sort'],
  ] as const;
  const names = new Map<string, 'partition' | 'sort'>();
  for (const [name, role] of parts) if (name !== undefined && !names.has(name)) names.set(name, role);
  const given = Object.keys(key);
  if (given.length !== names.size || !given.every((n) => names.has(n))) return refuseToken('not a key of this list');
  const numbers: readonly string[] = table.numberKeys ?? [];
  for (const [name, role] of names) {
    const value = (key as Key)[name];
    const ok = numbers.includes(name)
      ? typeof value === 'number' && Number.isFinite(value)
      : typeof value === 'string' && value.length > 0 && Buffer.byteLength(value) <= MAX_KEY_BYTES[role];
    if (!ok) return refuseToken('not a key of this list');
  }
  const queried = index ?? table;
  if ((key as Key)[queried.partitionKey] !== condition.partition) return refuseToken('it belongs to another item');
  const sort = queried.sortKey === undefined ? undefined : (key as Key)[queried.sortKey];
  if (sort !== undefined && (below(sort, condition.from) || below(condition.to, sort))) {
    return refuseToken('it is outside the window asked for; ask again with the window of its first page');
  }
  return key as Key;
}

/** The start key a store's token holds (a bare LastEvaluatedKey), checked as `checkStartKey` does. */
export function decodeStartKey(
  token: string,
  table: TableDefinition,
  indexName: string | undefined,
  condition: KeyCondition,
): Key {
  return checkStartKey(decodeToken(token), table, indexName, condition);
}

/** a < b in DynamoDB's order (numbers by value, strings by UTF-8 bytes); an absent bound is never below. */
function below(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  if (typeof a === 'number' && typeof b === 'number') return a < b;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
  return true;
}
