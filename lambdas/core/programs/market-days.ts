// A program's days around an event: the event's local date and its day type (weekday, or weekend/holiday by the
// program's calendar), and each of the look-back days before it with the shift that lands on the same wall-clock
// time there (24 h a day, give or take the hour of a DST change between). Pure.
import type { BaselineRule, Holidays, ProgramTerms } from '../contracts/programs.js';
import { DEFAULT_PROGRAM, termsOf } from '../contracts/programs.js';
import { holidayTest } from './holidays.js';
import { addDays, isWeekendDate, localDate, wallClockMs, zonedInstant, type LocalDate } from './market-time.js';

export type DayType = 'weekday' | 'weekend_holiday';

/** What the baseline arithmetic takes from a program: its zone, calendar and rule. */
export type MarketTerms = Pick<ProgramTerms, 'time_zone' | 'holidays' | 'baseline'>;

/** The built-in program's: UTC days, no holidays, 10-of-10 on either day type over 21 days, the 4 h → 1 h adjustment capped to ±20%. */
export const DEFAULT_TERMS: MarketTerms = termsOf(DEFAULT_PROGRAM);

export function dayTypeOf(date: LocalDate, isHoliday: (date: LocalDate) => boolean): DayType {
  return isWeekendDate(date) || isHoliday(date) ? 'weekend_holiday' : 'weekday';
}

export interface PriorDay {
  /** Local calendar days back (1 = the day before). */
  readonly k: number;
  readonly date: LocalDate;
  readonly type: DayType;
  /** event instant − the same wall-clock instant on that day, ms (k × 24 h, ± 1 h across a DST change). */
  readonly back: number;
}

export interface MarketDays {
  readonly date: LocalDate;
  readonly type: DayType;
  readonly rule: BaselineRule;
  /** The look-back days, newest first. */
  readonly prior: readonly PriorDay[];
}

export function marketDays(start: number, terms: MarketTerms): MarketDays {
  const zone = terms.time_zone;
  const isHoliday = holidayTest(terms.holidays as Holidays);
  const date = localDate(start, zone);
  const wall = wallClockMs(start, zone);
  const prior = Array.from({ length: terms.baseline.lookback_days }, (_, i): PriorDay => {
    const day = addDays(date, -(i + 1));
    return { k: i + 1, date: day, type: dayTypeOf(day, isHoliday), back: start - zonedInstant(day, wall, zone) };
  });
  return { date, type: dayTypeOf(date, isHoliday), rule: terms.baseline, prior };
}
