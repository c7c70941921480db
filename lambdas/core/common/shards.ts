// Index partition keys spread over shards, so that no one index partition takes every device's or command's writes,
// and the reading side: one ordered stream merged from every shard's newest-first or oldest-first Query.
import { createHash } from 'node:crypto';

export const SHARDS = 16;

type Key = Record<string, unknown>;

/** `prefix#07`: the shard of `id`, the same on every call and in every process. */
export function shardKey(prefix: string, id: string): string {
  return `${prefix}#${pad(createHash('sha256').update(id).digest().readUInt32BE(0) % SHARDS)}`;
}

export function shardKeys(prefix: string): string[] {
  return Array.from({ length: SHARDS }, (_, i) => `${prefix}#${pad(i)}`);
}

const pad = (i: number) => String(i).padStart(2, '0');

/** One Query of one shard, from `startKey` (ExclusiveStartKey), at most `limit` items in the index's order. */
export type ShardQuery = (
  shard: string,
  startKey: Key | undefined,
  limit: number,
) => Promise<{ items: Key[]; lastKey?: Key }>;

interface ShardState {
  readonly shard: string;
  buffer: Key[];
  /** Where a Query resumes to read what follows the items taken; null once the shard has nothing more. */
  position: Key | undefined | null;
  more: boolean;
}

/**
 * Items of every shard in one order, taken as needed: each shard is read `perShard` items at a time, and only when
 * its buffered items are used up, so a page costs one Query per shard unless the ids fall very unevenly.
 */
export class ShardMerge {
  private readonly states: ShardState[];

  constructor(
    shards: readonly string[],
    private readonly query: ShardQuery,
    private readonly order: (a: Key, b: Key) => number,
    private readonly keyOf: (item: Key) => Key,
    private readonly perShard: number,
    /** Per shard, where to start (see `resume`); absent or `{}`: from the beginning. */
    start?: readonly (Key | null)[],
  ) {
    this.states = shards.map((shard, i) => {
      const at = start?.[i];
      return { shard, buffer: [], position: at && Object.keys(at).length ? at : undefined, more: at !== null };
    });
  }

  /** The next `n` items; fewer only when every shard is read to its end. */
  async take(n: number): Promise<Key[]> {
    const out: Key[] = [];
    while (out.length < n) {
      await Promise.all(this.states.filter((s) => s.buffer.length === 0 && s.more).map((s) => this.fill(s)));
      let best: ShardState | undefined;
      for (const s of this.states)
        if (s.buffer.length && (!best || this.order(s.buffer[0]!, best.buffer[0]!) < 0)) best = s;
      if (!best) break;
      const item = best.buffer.shift()!;
      best.position = this.keyOf(item);
      out.push(item);
    }
    return out;
  }

  get exhausted(): boolean {
    return this.states.every((s) => s.buffer.length === 0 && !s.more);
  }

  /** Per shard, the start key that continues after what was taken (`{}`: from the beginning), or null when it has nothing left. */
  resume(): (Key | null)[] {
    return this.states.map((s) => (s.buffer.length === 0 && !s.more ? null : (s.position ?? {})));
  }

  private async fill(s: ShardState) {
    const res = await this.query(s.shard, s.position ?? undefined, this.perShard);
    s.buffer = res.items;
    s.more = !!res.lastKey;
    if (!res.items.length && res.lastKey) s.position = res.lastKey;
  }
}
