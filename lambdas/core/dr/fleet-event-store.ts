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
  /** What operators call it ("Shed 1.5 MW · Mon 17:00" unless named). */
  readonly name?: string;
  /** Created ahead of its start (`start_at`): its VENs committed then, sent their commands by the sweep at `startedAt`. */
  readonly scheduled?: boolean;
  /** Epoch milliseconds: when its commands were sent (a scheduled event's, by the sweep); absent while scheduled. */
  readonly launchedAt?: number;
  /** Epoch milliseconds: cancelled before it started (nothing sent, nothing settled). */
  readonly cancelledAt?: number;
  /** Epoch milliseconds: ended early by an operator (`endsAt` is then this time). */
  readonly endedAt?: number;
  /** Sent to one VEN by `POST /api/vens/{venId}/send-event`: listed beside the fleet's, never settled. */
  readonly single?: boolean;
  /** Its result and measured shed, kept when it is settled (for the listing). */
  readonly outcome?: EventOutcome;
}

export interface EventOutcome {
  readonly result: 'pass' | 'fail' | 'over' | null;
  readonly measured_shed_kw: number | null;
}

/** How far ahead an event may be scheduled (a listing reads the month that far ahead too). */
export const MAX_SCHEDULE_AHEAD_MS = 7 * 86_400_000;

/** Where an event is in its life: scheduled → running → ended → settled, or scheduled → cancelled. */
export type FleetEventStatus = 'scheduled' | 'running' | 'ended' | 'cancelled' | 'settled';

export function fleetEventStatus(event: FleetEventRecord, now: number): FleetEventStatus {
  if (event.cancelledAt !== undefined) return 'cancelled';
  if (event.settledAt !== undefined) return 'settled';
  if (event.scheduled && event.launchedAt === undefined && now < event.endsAt) return 'scheduled';
  return now < event.endsAt ? 'running' : 'ended';
}

/** An event's report as stored at settlement: the report as served, and the parts served only in the CSV. */
export interface StoredReport {
  readonly report: Record<string, unknown>;
  /** Each VEN's intervals, in the order of `report.vens`, when the report serves them only in the CSV; else none. */
  readonly parts: readonly unknown[];
}

/**
 * A VEN's commitment to an event over the event's window, from its start to its end: a VEN runs one event at a time
 * (a new one replaces it), so two commitments of a VEN never overlap. A scheduled event's is taken when it is created,
 * ahead of its window; a commitment whose `until` has passed is gone.
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
   * Commits a VEN to an event over [since, until) unless another event holds it for some of that window (a conditional
   * write, so two requests racing never both get it): undefined when committed, else the commitment in the way.
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
  /** The commitments of these VENs over [from, to) (default: the moment `from`), the earliest of each, by venId. */
  commitments(venIds: readonly string[], from: number, to?: number): Promise<Map<string, VenCommitment>>;
  /** Stores a new fleet event; false when the eventId is taken. */
  create(event: FleetEventRecord): Promise<boolean>;
  get(eventId: string): Promise<FleetEventRecord | undefined>;
  /**
   * Newest first by `startedAt`, over the last two years and the week ahead; `since` (epoch ms): only the months from
   * the one holding it (the sweep's walks: a few Queries, not one per month of two years).
   */
  list(page: { limit: number; next?: string; since?: number }): Promise<Page<FleetEventRecord>>;
  /** Stores the event's report unless one is stored already: false then (the first stays). */
  putReport(event: FleetEventRecord, report: StoredReport): Promise<boolean>;
  /** The stored report; its parts only when asked for (another read). */
  getReport(eventId: string, withParts: boolean): Promise<StoredReport | undefined>;
  /** Marks a scheduled event sent (once: false when it was sent or cancelled already), with who was sent and left out. */
  launch(
    eventId: string,
    at: number,
    change: Pick<FleetEventRecord, 'allocations' | 'excluded' | 'shortfall_kw'>,
  ): Promise<boolean>;
  /** Cancels a scheduled event not sent yet: false when it was sent or cancelled already. */
  cancel(eventId: string, at: number): Promise<boolean>;
  /** Ends a running event at `at` (its `endsAt` becomes `at`): false when it was not running then. */
  end(eventId: string, at: number): Promise<boolean>;
  /** Marks the event settled with its outcome (once: a second mark keeps the first). */
  markSettled(eventId: string, at: number, outcome?: EventOutcome): Promise<void>;
}
