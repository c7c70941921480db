// The transaction ledger: per node, an append-only hash chain of what the platform did to it and what it earned.
// Each entry carries the SHA-256 of the previous entry of its node and its own hash over a canonical serialisation
// of every field but `hash`; an append is a write conditional on its `seq` being free, so two writers racing for the
// same place make one retry on top of the other instead of forking the chain. `verifyChain` recomputes it all.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ConflictError } from '../contracts/errors.js';
import { logger } from '../common/logger.js';
import type { Page } from '../common/page.js';
import { THING_NAME } from '../contracts/topics.js';

/** `prevHash` of a node's first entry. */
export const GENESIS = '0'.repeat(64);

/** What the platform appends itself, and what admins may post from outside (`POST /api/transactions`). */
export const INTERNAL_TYPES = ['dispatch', 'dr-event', 'command', 'command-outcome'] as const;
export const EXTERNAL_TYPES = ['settlement', 'bid', 'payment', 'adjustment'] as const;
export type EntryType = (typeof INTERNAL_TYPES)[number] | (typeof EXTERNAL_TYPES)[number];

/** `POST /api/transactions`: an external entry (a market settlement, a bid …); `data` is free-form JSON. */
export const externalEntrySchema = z.strictObject({
  nodeId: z.string().regex(THING_NAME, 'must be a device id (a-z A-Z 0-9 : _ -)'),
  type: z.enum(EXTERNAL_TYPES),
  ref: z.string().min(1).max(128).optional(),
  data: z.record(z.string(), z.unknown()).refine((d) => JSON.stringify(d).length <= 16_384, 'at most 16 KiB of JSON'),
});

export interface EntryInput {
  readonly nodeId: string;
  readonly type: EntryType;
  /** The command's correlationId, the event's id, the settlement's reference. */
  readonly ref?: string;
  readonly data: Record<string, unknown>;
}

export interface LedgerEntry extends EntryInput {
  readonly seq: number;
  /** ISO-8601. */
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
}

export interface LedgerStore {
  /** The node's newest entry. */
  last(nodeId: string): Promise<LedgerEntry | undefined>;
  /** Writes the entry unless its `seq` is taken: false then. */
  put(entry: LedgerEntry): Promise<boolean>;
  /** Newest first. */
  list(nodeId: string, page: { limit: number; next?: string }): Promise<Page<LedgerEntry>>;
  /** Oldest first, every entry. */
  scan(nodeId: string): AsyncIterable<LedgerEntry>;
}

/** JSON with object keys sorted at every depth: the bytes the hash is taken over. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashOf(entry: Omit<LedgerEntry, 'hash'>): string {
  const { nodeId, seq, at, type, ref, data, prevHash } = entry;
  return createHash('sha256').update(canonical({ nodeId, seq, at, type, ref, data, prevHash })).digest('hex');
}

const MAX_ATTEMPTS = 30;
const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** Math.min(attempt, 5)));

/**
 * Appends after the node's newest entry; on a lost race, waits a little (random, growing) and tries again on the new
 * head. Still losing after MAX_ATTEMPTS is a ConflictError (409: retry).
 */
export async function appendEntry(store: LedgerStore, input: EntryInput, now: number): Promise<LedgerEntry> {
  return (await appendUnless(store, input, now, async () => undefined)).entry;
}

/**
 * Appends the entry unless the node's chain already holds one of its `type` and `ref` written at or after `since`
 * (ISO-8601): exactly once however many writers try, without a lock. The look-up covers the chain up to the head it
 * read, and the append is conditional on the slot after that head, so a writer that looked before another's append
 * loses the slot, reads again and finds it.
 */
export async function appendOnce(store: LedgerStore, input: EntryInput & { ref: string }, now: number, since: string) {
  return appendUnless(store, input, now, () => findSince(store, input.nodeId, input.type, input.ref, since));
}

async function appendUnless(
  store: LedgerStore,
  input: EntryInput,
  now: number,
  existing: () => Promise<LedgerEntry | undefined>,
): Promise<{ entry: LedgerEntry; appended: boolean }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const last = await store.last(input.nodeId);
    const found = last && (await existing());
    if (found) return { entry: found, appended: false };
    const body = {
      ...input,
      seq: (last?.seq ?? 0) + 1,
      at: new Date(now).toISOString(),
      prevHash: last?.hash ?? GENESIS,
    };
    const entry: LedgerEntry = { ...body, hash: hashOf(body) };
    if (await store.put(entry)) return { entry, appended: true };
    await backoff(attempt);
  }
  throw new ConflictError(`ledger of ${input.nodeId}: too many concurrent appends, retry`);
}

/** The node's newest entry of this type and ref among those written at or after `since`, newest first. */
async function findSince(store: LedgerStore, nodeId: string, type: EntryType, ref: string, since: string) {
  let next: string | undefined;
  do {
    const page = await store.list(nodeId, { limit: 50, ...(next && { next }) });
    for (const entry of page.items) {
      if (entry.at < since) return undefined;
      if (entry.type === type && entry.ref === ref) return entry;
    }
    next = page.next;
  } while (next);
  return undefined;
}

/**
 * For the write paths (commands, ACKs): the platform's own action already happened, so a failed append is logged
 * loudly rather than failing it.
 */
export async function recordEntry(store: LedgerStore | undefined, input: EntryInput, now: number): Promise<void> {
  if (!store) return;
  try {
    await appendEntry(store, input, now);
  } catch (err) {
    logger.error('ledger append failed', {
      nodeId: input.nodeId,
      type: input.type,
      ref: input.ref,
      error: err as Error,
    });
  }
}

export interface Verification {
  readonly nodeId: string;
  readonly ok: boolean;
  readonly entries: number;
  readonly head?: { readonly seq: number; readonly hash: string };
  /** The first entry that does not check, and why. */
  readonly firstBad?: { readonly seq: number; readonly reason: string };
}

/**
 * Re-checks the chain oldest first: `seq` without gaps, each `prevHash` the hash of the entry before, each `hash`
 * recomputed. Entries past retention are gone (TTL deletes the oldest first): the oldest one left anchors the check.
 */
export async function verifyChain(store: LedgerStore, nodeId: string): Promise<Verification> {
  let prev: LedgerEntry | undefined;
  let entries = 0;
  for await (const entry of store.scan(nodeId)) {
    entries++;
    const reason = checkEntry(entry, prev);
    if (reason)
      return { nodeId, ok: false, entries, firstBad: { seq: entry.seq, reason }, ...(prev && { head: headOf(prev) }) };
    prev = entry;
  }
  return { nodeId, ok: true, entries, ...(prev && { head: headOf(prev) }) };
}

const headOf = (e: LedgerEntry) => ({ seq: e.seq, hash: e.hash });

function checkEntry(entry: LedgerEntry, prev: LedgerEntry | undefined): string | undefined {
  if (prev && entry.seq !== prev.seq + 1) return `entries ${prev.seq + 1} to ${entry.seq - 1} are missing`;
  if (!prev && entry.seq === 1 && entry.prevHash !== GENESIS)
    return 'the first entry does not start from the genesis hash';
  if (prev && entry.prevHash !== prev.hash) return `prevHash is not the hash of entry ${prev.seq}`;
  if (hashOf(entry) !== entry.hash) return 'its content does not match its hash (edited)';
  return undefined;
}
