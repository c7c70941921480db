// The fleet DR event port: events, each VEN's commitment to one event at a time, and the report kept at settlement.
import type { Page } from '../common/page.js';
import type { ProgramTerms } from '../contracts/programs.js';

export interface ShedAllocation {
  readonly venId: string;
  /** What the VEN is sent: the sum of its loads' draw when planned. */
  readonly shed_kw: number;
  /** What it is expected to shed over the event window, by its load forecast; absent: shed_kw (no forecast). */
  readonly expected_kw?: number;
}

export interface FleetEventRecord {
  readonly eventId: string;
  readonly requested_kw: number;
  readonly duration_sec: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly endsAt: number;
  readonly allocations: readonly (ShedAllocation & { readonly correlationId: string })[];
  readonly shortfall_kw: number;
  /** VENs asked for but left out, with why (offline, nothing to shed). */
  readonly excluded: readonly { readonly venId: string; readonly reason: string }[];
  /** Epoch milliseconds: when its settlement entries were all in the ledger (settlement.ts). */
  readonly settledAt?: number;
  /** By venId, epoch milliseconds: VENs released before the end (restored); measured up to then. */
  readonly released?: Readonly<Record<string, number>>;
  /** The terms of the program the event runs in, as they were at its start; absent: the built-in program. */
  readonly program?: ProgramTerms;
}

/** An event's report as stored at settlement: the report as served, and the parts served only in the CSV. */
export interface StoredReport {
  readonly report: Record<string, unknown>;
  /** Each VEN's intervals, in the order of `report.vens`, when the report serves them only in the CSV; else none. */
  readonly parts: readonly unknown[];
}

/**
 * A VEN's commitment to an event: one per VEN at a time (a VEN runs one event at a time; a new one replaces it), from
 * the event's start to its end. A commitment whose `until` has passed is free to take.
 */
export interface VenCommitment {
  readonly venId: string;
  readonly eventId: string;
  /** Epoch milliseconds. */
  readonly since: number;
  readonly until: number;
  /** What the VEN was sent for it. */
  readonly shed_kw: number;
}

export interface FleetEventStore {
  /**
   * Commits a VEN to an event unless another event holds it until after `now` (a conditional write, so two requests
   * racing never both get it): undefined when committed, else the commitment holding it.
   */
  commit(commitment: VenCommitment, now: number): Promise<VenCommitment | undefined>;
  /**
   * Ends a VEN's commitment early (the operator restored it): the event it was committed to records when (its report
   * measures the VEN up to then, so a later event on the VEN never counts the same shed), then the VEN is free.
   * The event id, or undefined when no event held it.
   */
  release(venId: string, now: number): Promise<string | undefined>;
  /** Gives back a VEN's commitment, if this event still holds it (an event that could not be started). */
  uncommit(venId: string, eventId: string): Promise<void>;
  /** The commitments of these VENs still running at `now`, by venId. */
  commitments(venIds: readonly string[], now: number): Promise<Map<string, VenCommitment>>;
  /** Stores a new fleet event; false when the eventId is taken. */
  create(event: FleetEventRecord): Promise<boolean>;
  get(eventId: string): Promise<FleetEventRecord | undefined>;
  /** Newest first by `startedAt`, over the last two years. */
  list(page: { limit: number; next?: string }): Promise<Page<FleetEventRecord>>;
  /** Stores the event's report unless one is stored already: false then (the first stays). */
  putReport(event: FleetEventRecord, report: StoredReport): Promise<boolean>;
  /** The stored report; its parts only when asked for (another read). */
  getReport(eventId: string, withParts: boolean): Promise<StoredReport | undefined>;
  /** Marks the event settled (once: a second mark keeps the first time). */
  markSettled(eventId: string, at: number): Promise<void>;
}
