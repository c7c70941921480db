// The program lookup of a fleet event: the program named (none: the built-in one), its checks (programs.ts), the VENs
// it runs on and the terms the event keeps.
import { DEFAULT_PROGRAM_ID, termsOf, type ProgramTerms } from '../contracts/programs.js';
import type { ProgramStore } from '../programs/program-store.js';
import { checkEventCounts, countsSince, getProgram, programEventVens } from '../programs/programs.js';
import type { FleetEventStore } from './fleet-event-store.js';

export async function programOfEvent(
  ports: { programs: Pick<ProgramStore, 'get'>; fleetEvents: Pick<FleetEventStore, 'list'> },
  programId: string | undefined,
  req: { ven_ids?: readonly string[]; duration_sec: number; start_at?: number },
  now: number,
): Promise<{ ven_ids?: readonly string[]; program?: ProgramTerms }> {
  if (programId === undefined || programId === DEFAULT_PROGRAM_ID)
    return { ...(req.ven_ids && { ven_ids: req.ven_ids }) };
  const program = await getProgram(ports.programs, programId);
  // a scheduled event is held to the program's notice, day and season at its own start
  const start = req.start_at ?? now;
  const venIds = programEventVens(program, { ...req, start }, now);
  const since = countsSince(program, start);
  if (since !== undefined)
    checkEventCounts(program, start, await programEventStarts(ports.fleetEvents, programId, since));
  return { ...(venIds && { ven_ids: venIds }), program: termsOf(program) };
}

/** The starts of a program's events since `since`, newest first. */
async function programEventStarts(
  fleetEvents: Pick<FleetEventStore, 'list'>,
  programId: string,
  since: number,
): Promise<number[]> {
  const starts: number[] = [];
  let next: string | undefined;
  walk: do {
    const page = await fleetEvents.list({ limit: 100, ...(next && { next }) });
    for (const event of page.items) {
      if (event.startedAt < since) break walk;
      if (event.program?.program_id === programId && event.cancelledAt === undefined) starts.push(event.startedAt);
    }
    next = page.next;
  } while (next);
  return starts;
}
