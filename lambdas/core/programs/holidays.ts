// Holiday calendars: the US federal holidays by rule for any year (5 U.S.C. 6103), on their observed dates — one that
// falls on a Saturday is observed the Friday before, on a Sunday the Monday after — or a program's own list. Pure.
import type { Holidays } from '../contracts/programs.js';
import { addDays, dayOfWeek, type LocalDate } from './market-time.js';

const iso = (y: number, m: number, d: number): LocalDate => new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);

/** The `nth` (1-based) `weekday` (0 Sunday) of a month; `nth` −1: the last. */
function nthWeekday(y: number, m: number, weekday: number, nth: number): LocalDate {
  if (nth < 0) {
    const last = iso(y, m + 1, 0);
    return addDays(last, -((dayOfWeek(last) - weekday + 7) % 7));
  }
  const first = iso(y, m, 1);
  return addDays(first, ((weekday - dayOfWeek(first) + 7) % 7) + (nth - 1) * 7);
}

const observed = (date: LocalDate) =>
  dayOfWeek(date) === 6 ? addDays(date, -1) : dayOfWeek(date) === 0 ? addDays(date, 1) : date;

/** The year's US federal holidays as observed, with their names; a New Year's Day on a Saturday is observed on 31 December before. */
export function usFederalHolidays(year: number): { date: LocalDate; name: string }[] {
  const rules = (y: number) => [
    { date: observed(iso(y, 1, 1)), name: "New Year's Day" },
    { date: nthWeekday(y, 1, 1, 3), name: 'Birthday of Martin Luther King, Jr.' },
    { date: nthWeekday(y, 2, 1, 3), name: "Washington's Birthday" },
    { date: nthWeekday(y, 5, 1, -1), name: 'Memorial Day' },
    ...(y >= 2021 ? [{ date: observed(iso(y, 6, 19)), name: 'Juneteenth National Independence Day' }] : []),
    { date: observed(iso(y, 7, 4)), name: 'Independence Day' },
    { date: nthWeekday(y, 9, 1, 1), name: 'Labor Day' },
    { date: nthWeekday(y, 10, 1, 2), name: 'Columbus Day' },
    { date: observed(iso(y, 11, 11)), name: 'Veterans Day' },
    { date: nthWeekday(y, 11, 4, 4), name: 'Thanksgiving Day' },
    { date: observed(iso(y, 12, 25)), name: 'Christmas Day' },
  ];
  return [...rules(year), ...rules(year + 1)]
    .filter((h) => h.date.startsWith(`${year}-`))
    .sort((a, b) => (a.date < b.date ? -1 : 1));
}

/** Whether `date` is a holiday of the calendar. */
export function holidayTest(holidays: Holidays): (date: LocalDate) => boolean {
  if (holidays === 'none') return () => false;
  if (Array.isArray(holidays)) {
    const set = new Set(holidays);
    return (date) => set.has(date);
  }
  const years = new Map<number, Set<LocalDate>>();
  return (date) => {
    const year = Number(date.slice(0, 4));
    let set = years.get(year);
    if (!set) years.set(year, (set = new Set(usFederalHolidays(year).map((h) => h.date))));
    return set.has(date);
  };
}
