// DR programs: create, read, change and delete them (the built-in program is read only), and the checks an event of
// a program passes before it starts: its VENs enrolled, its duration and notice, its count per local day and season.
import { ConflictError, NotFoundError, ValidationError } from '../contracts/errors.js';
import {
  DEFAULT_PROGRAM,
  DEFAULT_PROGRAM_ID,
  type Program,
  type ProgramBody,
  type programPatchSchema,
} from '../contracts/programs.js';
import type * as z from 'zod';
import type { Page } from '../common/page.js';
import type { ProgramStore } from './program-store.js';
import { localDate, zonedInstant, type LocalDate } from './market-time.js';

export async function createProgram(
  store: ProgramStore,
  body: ProgramBody,
  now: number,
  newId: () => string,
): Promise<Program> {
  const { program_id, ...fields } = body;
  const at = new Date(now).toISOString();
  const program: Program = {
    program_id: program_id ?? `prg-${newId().slice(0, 8)}`,
    ...fields,
    version: 1,
    created_at: at,
    updated_at: at,
  };
  if (!(await store.create(program)))
    throw new ConflictError(`program ${program.program_id} exists already`, 'program_id');
  return program;
}

/** A program by id; `default` is the built-in one. */
export async function getProgram(store: Pick<ProgramStore, 'get'>, programId: string): Promise<Program> {
  if (programId === DEFAULT_PROGRAM_ID) return DEFAULT_PROGRAM;
  const program = await store.get(programId);
  if (!program) throw new NotFoundError(`program ${programId}`);
  return program;
}

const builtIn = () =>
  new ConflictError(
    `${DEFAULT_PROGRAM_ID} is the built-in program (UTC days, each VEN's tariff): it cannot be changed or deleted`,
  );

export async function patchProgram(
  store: ProgramStore,
  programId: string,
  patch: z.infer<typeof programPatchSchema>,
  now: number,
): Promise<Program> {
  if (programId === DEFAULT_PROGRAM_ID) throw builtIn();
  const current = await getProgram(store, programId);
  const next: Program = { ...current, ...patch, version: current.version + 1, updated_at: new Date(now).toISOString() };
  if (!(await store.replace(next, current.version)))
    throw new ConflictError(`program ${programId} was changed meanwhile: read it again`);
  return next;
}

export async function deleteProgram(
  store: ProgramStore,
  programId: string,
): Promise<{ program_id: string; deleted: true }> {
  if (programId === DEFAULT_PROGRAM_ID) throw builtIn();
  const current = await getProgram(store, programId);
  if (!(await store.delete(programId, current.version)))
    throw new ConflictError(`program ${programId} was changed meanwhile: read it again`);
  return { program_id: programId, deleted: true };
}

/** The programs, the built-in one first on the first page. */
export async function listPrograms(
  store: ProgramStore,
  page: { limit: number; next?: string },
): Promise<Page<Program>> {
  const stored = await store.list(page);
  return { ...stored, items: page.next ? stored.items : [DEFAULT_PROGRAM, ...stored.items] };
}

/** What an event of a program asks for: its VENs (default: the program's enrolled ones), start and length. */
export interface ProgramEventRequest {
  readonly ven_ids?: readonly string[];
  readonly start: number;
  readonly duration_sec: number;
}

/**
 * The VENs an event of the program runs on, once its terms allow it: named VENs must be enrolled; none named, every
 * enrolled one (the built-in program: every VEN, as before programs). Duration and notice checked against its limits.
 */
export function programEventVens(
  program: Program,
  req: ProgramEventRequest,
  now: number,
): readonly string[] | undefined {
  if (program.program_id === DEFAULT_PROGRAM_ID) return req.ven_ids;
  const enrolled = new Set(program.ven_ids);
  const stray = req.ven_ids?.find((v) => !enrolled.has(v));
  if (stray !== undefined)
    throw new ValidationError('ven_ids', `ven_ids: ${stray} is not enrolled in program ${program.program_id}`);
  if (!req.ven_ids && enrolled.size === 0)
    throw new ConflictError(`program ${program.program_id} has no VENs enrolled`, 'program_id');
  const { limits } = program;
  const minutes = req.duration_sec / 60;
  if (minutes < limits.min_duration_min || minutes > limits.max_duration_min) {
    throw new ValidationError(
      'duration_sec',
      `duration_sec: program ${program.program_id} runs events of ${limits.min_duration_min} to ${limits.max_duration_min} minutes`,
    );
  }
  if (req.start - now < limits.notice_min * 60_000) {
    throw new ConflictError(
      `program ${program.program_id} needs ${limits.notice_min} minutes' notice before an event starts`,
      'program_id',
    );
  }
  return req.ven_ids ?? program.ven_ids;
}

/** The local dates of the season of `date` (the program's season, else its calendar year); undefined: out of season. */
export function seasonOf(program: Program, date: LocalDate): { from: LocalDate; to: LocalDate } | undefined {
  const season = program.limits.season;
  const year = Number(date.slice(0, 4));
  if (!season) return { from: `${year}-01-01`, to: `${year}-12-31` };
  const md = date.slice(5);
  if (season.from <= season.to)
    return md >= season.from && md <= season.to
      ? { from: `${year}-${season.from}`, to: `${year}-${season.to}` }
      : undefined;
  // wraps the year end: 11-01 to 03-31
  if (md >= season.from) return { from: `${year}-${season.from}`, to: `${year + 1}-${season.to}` };
  if (md <= season.to) return { from: `${year - 1}-${season.from}`, to: `${year}-${season.to}` };
  return undefined;
}

/**
 * Since when an event of the program at `start` needs the program's earlier events counted (its season's start, its
 * local day's at least); undefined when it has no count limit. An event out of the program's season is refused (409).
 */
export function countsSince(program: Program, start: number): number | undefined {
  const { max_events_per_day, max_events_per_season } = program.limits;
  if (max_events_per_day === undefined && max_events_per_season === undefined) return undefined;
  const zone = program.time_zone;
  const date = localDate(start, zone);
  const season = seasonOf(program, date);
  if (!season)
    throw new ConflictError(
      `program ${program.program_id} runs events from ${program.limits.season!.from} to ${program.limits.season!.to} only`,
      'program_id',
    );
  return Math.min(zonedInstant(season.from, 0, zone), zonedInstant(date, 0, zone));
}

/** Refuses (409) an event of the program at `start` past its events per local day or per season, given the starts of its earlier events. */
export function checkEventCounts(program: Program, start: number, starts: readonly number[]) {
  const zone = program.time_zone;
  const date = localDate(start, zone);
  const season = seasonOf(program, date);
  const { max_events_per_day, max_events_per_season } = program.limits;
  const dates = starts.map((s) => localDate(s, zone));
  if (max_events_per_day !== undefined && dates.filter((d) => d === date).length >= max_events_per_day) {
    throw new ConflictError(
      `program ${program.program_id} allows ${max_events_per_day} event(s) a day: ${date} has had them`,
      'program_id',
    );
  }
  if (
    season &&
    max_events_per_season !== undefined &&
    dates.filter((d) => d >= season.from && d <= season.to).length >= max_events_per_season
  ) {
    throw new ConflictError(
      `program ${program.program_id} allows ${max_events_per_season} event(s) a season (${season.from} to ${season.to}): it has had them`,
      'program_id',
    );
  }
}
