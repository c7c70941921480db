// A time-of-use tariff turned into one price per 15-minute slot of a local calendar day, in the tariff's IANA time
// zone. The slots are the real quarter-hours between one local midnight and the next: 96 on most days, 92 on the day
// clocks go forward and 100 on the day they go back (the repeated hour takes its wall-clock period's price twice).
// Pure: no clock, no I/O.
import { ValidationError } from '../contracts/errors.js';

export const SLOT_MINUTES = 15;
export const SLOT_MS = SLOT_MINUTES * 60_000;

export interface TouPeriod {
  /** Local wall-clock start, `HH:MM`, inclusive. */
  readonly start: string;
  /** Local wall-clock end, `HH:MM` (`24:00` allowed), exclusive; before `start` wraps past midnight. */
  readonly end: string;
  /** Price per kWh imported (and paid per kWh exported). */
  readonly price: number;
}

export interface Tariff {
  /** IANA time zone the periods are read in, e.g. `Europe/London`. */
  readonly time_zone: string;
  /** The first period that covers a slot's local start sets its price. */
  readonly periods: readonly TouPeriod[];
  /** The price of a slot no period covers. */
  readonly default_price: number;
}

export interface PricedDay {
  /** The UTC instant of the day's local midnight. */
  readonly start: number;
  /** One entry per slot: its UTC start and price. 92, 96 or 100 long (other counts in zones with odd shifts). */
  readonly slots: readonly { readonly start: number; readonly price: number }[];
}

const HHMM = /^([01]\d|2[0-4]):([0-5]\d)$/;

/** Minutes after local midnight of `HH:MM`; `field` names it in the error. */
export function minutesOf(hhmm: string, field: string): number {
  const m = HHMM.exec(hhmm);
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
  if (!m || minutes > 24 * 60) throw new ValidationError(field, `${field}: must be HH:MM between 00:00 and 24:00`);
  return minutes;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new ValidationError('tariff.time_zone', `tariff.time_zone: ${timeZone} is not an IANA time zone`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Local wall-clock fields of an instant in a zone. */
function wallClock(timeZone: string, instant: number) {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return { y: +parts.year!, mo: +parts.month!, d: +parts.day!, h: +parts.hour!, mi: +parts.minute!, s: +parts.second! };
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(timeZone: string, instant: number): number {
  const w = wallClock(timeZone, instant);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(instant / 1000) * 1000;
}

/** The UTC instant of local midnight starting `y-mo-d` (the first instant of that day where midnight is skipped). */
function localMidnight(timeZone: string, y: number, mo: number, d: number): number {
  const wall = Date.UTC(y, mo - 1, d);
  let t = wall - offsetAt(timeZone, wall);
  t = wall - offsetAt(timeZone, t);
  // a zone that skips midnight itself: the day starts at the first instant whose local date is that day
  const w = wallClock(timeZone, t);
  if (Date.UTC(w.y, w.mo - 1, w.d) < wall) t += (24 * 60 - (w.h * 60 + w.mi)) * 60_000;
  return t;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The tariff's price for each 15-minute slot of the local day `date` (`YYYY-MM-DD`). */
export function tariffPrices(tariff: Tariff, date: string): PricedDay {
  const m = DATE.exec(date);
  const y = Number(m?.[1]);
  const mo = Number(m?.[2]);
  const d = Number(m?.[3]);
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (!m || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new ValidationError('tariff.date', 'tariff.date: must be a calendar date YYYY-MM-DD');
  }
  const periods = tariff.periods.map((p, i) => ({
    from: minutesOf(p.start, `tariff.periods.${i}.start`),
    to: minutesOf(p.end, `tariff.periods.${i}.end`),
    price: p.price,
  }));
  const start = localMidnight(tariff.time_zone, y, mo, d);
  const next = new Date(Date.UTC(y, mo - 1, d + 1));
  const end = localMidnight(tariff.time_zone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  const slots: { start: number; price: number }[] = [];
  for (let t = start; t < end; t += SLOT_MS) {
    const w = wallClock(tariff.time_zone, t);
    const minute = w.h * 60 + w.mi;
    const period = periods.find((p) =>
      p.from <= p.to ? minute >= p.from && minute < p.to : minute >= p.from || minute < p.to,
    );
    slots.push({ start: t, price: period ? period.price : tariff.default_price });
  }
  return { start, slots };
}
