// Local days of an IANA time zone, with Intl only: the calendar date of an instant, the instant of a wall-clock time
// on a date, a day's bounds (23 or 25 hours on a DST change) and its day of the week. Pure.

/** A calendar date, `YYYY-MM-DD`. */
export type LocalDate = string;

const formats = new Map<string, Intl.DateTimeFormat>();
function formatOf(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(zone, f);
  }
  return f;
}

/** The wall clock of `ms` in `zone`, read as if it were UTC (epoch ms, whole seconds, plus the instant's ms). */
function wallAsUtc(ms: number, zone: string): number {
  if (zone === 'UTC') return ms;
  const parts: Record<string, number> = {};
  for (const p of formatOf(zone).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const sub = ((ms % 1000) + 1000) % 1000;
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + sub;
}

/** The zone's offset from UTC at `ms` (local − UTC), ms: −8 h in Los Angeles in winter, −7 h in summer. */
export const offsetAt = (ms: number, zone: string) => wallAsUtc(ms, zone) - ms;

/** The local calendar date of `ms`. */
export const localDate = (ms: number, zone: string): LocalDate =>
  new Date(wallAsUtc(ms, zone)).toISOString().slice(0, 10);

/** Milliseconds since local midnight by the wall clock (17:00 is 61,200,000 whatever the day's length). */
export const wallClockMs = (ms: number, zone: string) => ((wallAsUtc(ms, zone) % 86_400_000) + 86_400_000) % 86_400_000;

/**
 * The instant the wall clock of `zone` reads `wallMs` after midnight on `date`. A wall time the spring change skips
 * (02:30) is taken at the offset before the change (03:30 by the clock after it); one the autumn change repeats, its
 * first occurrence.
 */
export function zonedInstant(date: LocalDate, wallMs: number, zone: string): number {
  const wall = Date.parse(`${date}T00:00:00Z`) + wallMs;
  if (zone === 'UTC') return wall;
  // the offsets a day and a half either side (a zone is within ±14 h of UTC; clocks change at most once in 3 days):
  // the earliest candidate whose wall clock is right, else (a skipped time) the one at the offset before the change
  const before = wall - offsetAt(wall - 129_600_000, zone);
  const after = wall - offsetAt(wall + 129_600_000, zone);
  const found = [before, after].sort((a, b) => a - b).find((t) => wallAsUtc(t, zone) === wall);
  return found ?? before;
}

/** Local midnight of `date`, and the next day's: the day's bounds [start, end), 23, 24 or 25 hours. */
export function localDayBounds(date: LocalDate, zone: string): { start: number; end: number } {
  return { start: zonedInstant(date, 0, zone), end: zonedInstant(addDays(date, 1), 0, zone) };
}

/** The date `n` days after `date` (before, when negative). */
export const addDays = (date: LocalDate, n: number): LocalDate =>
  new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** 0 Sunday … 6 Saturday. */
export const dayOfWeek = (date: LocalDate) => new Date(`${date}T00:00:00Z`).getUTCDay();

export const isWeekendDate = (date: LocalDate) => dayOfWeek(date) === 0 || dayOfWeek(date) === 6;

/** The first day of `date`'s month, and of the next: local month bounds. */
export function localMonthBounds(date: LocalDate, zone: string): { start: number; end: number } {
  const [y, m] = date.split('-').map(Number) as [number, number];
  const first = `${date.slice(0, 7)}-01`;
  const next = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  return { start: zonedInstant(first, 0, zone), end: zonedInstant(next, 0, zone) };
}
