// A time-of-use tariff turned into one price per 15-minute slot of a local calendar day, in the tariff's IANA time
// zone (local days as `programs/market-time.ts` reads them). The slots are the real quarter-hours between one local midnight and the next: 96 on most days, 92 on the day
// clocks go forward and 100 on the day they go back (the repeated hour takes its wall-clock period's price twice).
// Pure: no clock, no I/O.
import { ValidationError } from '../contracts/errors.js';
import { localDayBounds, wallClockMs } from '../programs/market-time.js';

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

/** Refuses a zone Intl does not know, naming the field. */
function checkZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new ValidationError('tariff.time_zone', `tariff.time_zone: ${timeZone} is not an IANA time zone`);
  }
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
  checkZone(tariff.time_zone);
  const { start, end } = localDayBounds(date, tariff.time_zone);
  const slots: { start: number; price: number }[] = [];
  for (let t = start; t < end; t += SLOT_MS) {
    const minute = Math.floor(wallClockMs(t, tariff.time_zone) / 60_000);
    const period = periods.find((p) =>
      p.from <= p.to ? minute >= p.from && minute < p.to : minute >= p.from || minute < p.to,
    );
    slots.push({ start: t, price: period ? period.price : tariff.default_price });
  }
  return { start, slots };
}
