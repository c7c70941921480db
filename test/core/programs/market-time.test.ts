// Market time, pinned by hand: baselines in a program's local days (DST changes, US federal holidays), the holiday
// calendar by rule, and daily rollups of 23- and 25-hour days in the portfolio's zone.
import { describe, expect, it } from 'vitest';
import { baselineReads, computeBaseline, type MeterSample } from '../../../lambdas/core/analytics/baseline.js';
import {
  bucketEnd,
  bucketStart,
  combine,
  intervalRow,
  rollupView,
  type RollupRow,
} from '../../../lambdas/core/analytics/rollups.js';
import { baselineRuleSchema, type ProgramTerms } from '../../../lambdas/core/contracts/programs.js';
import { usFederalHolidays } from '../../../lambdas/core/programs/holidays.js';
import {
  addDays,
  localDate,
  localDayBounds,
  wallClockMs,
  zonedInstant,
} from '../../../lambdas/core/programs/market-time.js';
import { marketDays, type MarketTerms } from '../../../lambdas/core/programs/market-days.js';

const LA = 'America/Los_Angeles';
const H = 3_600_000;
const pacific: MarketTerms = { time_zone: LA, holidays: 'us-federal', baseline: baselineRuleSchema.parse({}) };

/**
 * A VEN whose load depends only on the local wall clock and the local day: from 17:00 to 18:00 it draws 10 kW on a
 * weekday and 4 kW on a weekend day or a holiday (given by hand per test); 20 kW at every other hour of every day. So
 * a baseline from the right days at the right wall-clock hour is 10 kW (weekday event) or 4 kW (weekend/holiday
 * event); a day of the other type pulls it toward the other figure, an hour off (a 24 h shift across a DST change)
 * toward 20 kW.
 */
function meter(holidays: readonly string[], loads: Readonly<Record<string, number>> = {}) {
  return (from: number, to: number): MeterSample[] => {
    const out: MeterSample[] = [];
    for (let t = Math.ceil(from / 300_000) * 300_000; t < to; t += 300_000) {
      const date = localDate(t, LA);
      const day = new Date(`${date}T00:00:00Z`).getUTCDay();
      const off = day === 0 || day === 6 || holidays.includes(date);
      out.push({ time: t, usedPowerKw: wallHour(t) === 17 ? (loads[date] ?? (off ? 4 : 10)) : 20 });
    }
    return out;
  };
}
const wallHour = (t: number) =>
  Number(new Intl.DateTimeFormat('en-US', { timeZone: LA, hour: '2-digit', hourCycle: 'h23' }).format(t));

/** The baseline of a one-hour event at `start` as the report computes it: what baselineReads asks for, read from the meter. */
function baselineOf(
  start: number,
  terms: MarketTerms,
  holidays: readonly string[],
  loads: Readonly<Record<string, number>> = {},
) {
  const end = start + H;
  const read = meter(holidays, loads);
  const plan = baselineReads(start, end, terms);
  const priorDays = plan.priorDays.map((windows) => (windows ?? []).flatMap((w) => read(w.from, w.to)));
  return computeBaseline(
    { start, end, before: plan.before ? read(plan.before.from, plan.before.to) : [], during: [], priorDays },
    terms,
  );
}
const levels = (b: ReturnType<typeof computeBaseline>) => [...new Set(b.intervals.map((i) => i.baseline_kw))];

describe("baselines in a program's local days", () => {
  it('a Friday 17:00 Pacific event before the spring change is a weekday: the 10 prior weekdays, Presidents Day never reached', () => {
    // Fri 6 Mar 2026 17:00 PST (UTC−8) = Sat 7 Mar 01:00 UTC: a Saturday in UTC. Spring forward: Sun 8 Mar 2026.
    const start = Date.parse('2026-03-07T01:00:00Z');
    expect(localDate(start, LA)).toBe('2026-03-06');
    const b = baselineOf(start, pacific, []);
    // Weekdays back from Thu 5 Mar: 5, 4, 3, 2 Mar; Fri 27, 26, 25, 24, 23 Feb; Fri 20 Feb (10th). Mon 16 Feb
    // (Washington's Birthday) would be the 14th: not reached.
    expect(b.days).toEqual([
      '2026-03-05',
      '2026-03-04',
      '2026-03-03',
      '2026-03-02',
      '2026-02-27',
      '2026-02-26',
      '2026-02-25',
      '2026-02-24',
      '2026-02-23',
      '2026-02-20',
    ]);
    expect(b.method).toBe('10-of-10');
    expect(levels(b)).toEqual([10]);
    expect(b.adjustment).toEqual({ factor: 1, uncapped: 1, capped: false }); // 13:00–16:00 local: 20 kW every day
  });

  it('a Monday 17:00 event after the spring change reads each prior weekday at 17:00 PST, 71 h before a 17:00 PDT three days on', () => {
    // Mon 9 Mar 2026 17:00 PDT (UTC−7) = Tue 10 Mar 00:00 UTC. Fri 6 Mar 17:00 PST = Sat 7 Mar 01:00 UTC: 71 h before
    // (Sunday 8 Mar was 23 h long), not 72 h (which is 16:00 PST, a 20 kW hour).
    const start = Date.parse('2026-03-10T00:00:00Z');
    const days = marketDays(start, pacific);
    expect(days.date).toBe('2026-03-09');
    expect(days.prior.find((d) => d.date === '2026-03-06')!.back).toBe(71 * H);
    expect(days.prior.find((d) => d.date === '2026-03-05')!.back).toBe(95 * H);
    const b = baselineOf(start, pacific, []);
    // Fri 6, 5, 4, 3, 2 Mar; Fri 27, 26, 25, 24, 23 Feb.
    expect(b.days).toEqual([
      '2026-03-06',
      '2026-03-05',
      '2026-03-04',
      '2026-03-03',
      '2026-03-02',
      '2026-02-27',
      '2026-02-26',
      '2026-02-25',
      '2026-02-24',
      '2026-02-23',
    ]);
    expect(levels(b)).toEqual([10]);
  });

  it('a Monday event after the autumn change (Sunday 1 Nov 2026: 25 h) reads each prior weekday at 17:00 PDT, 73 h back from Friday', () => {
    // Mon 2 Nov 2026 17:00 PST (UTC−8) = Tue 3 Nov 01:00 UTC. Fri 30 Oct 17:00 PDT (UTC−7) = Sat 31 Oct 00:00 UTC: 73 h
    // before. Weekdays back: Fri 30, 29, 28, 27, 26 Oct; Fri 23, 22, 21, 20, 19 Oct (Columbus Day, Mon 12 Oct, not reached).
    const start = Date.parse('2026-11-03T01:00:00Z');
    expect(marketDays(start, pacific).prior.find((d) => d.date === '2026-10-30')!.back).toBe(73 * H);
    const b = baselineOf(start, pacific, []);
    expect(b.days).toEqual([
      '2026-10-30',
      '2026-10-29',
      '2026-10-28',
      '2026-10-27',
      '2026-10-26',
      '2026-10-23',
      '2026-10-22',
      '2026-10-21',
      '2026-10-20',
      '2026-10-19',
    ]);
    expect(levels(b)).toEqual([10]);
  });

  it('the Tuesday after Memorial Day skips the holiday', () => {
    // Memorial Day: the last Monday of May 2026, 25 May. Tue 26 May 17:00 PDT = Wed 27 May 00:00 UTC.
    // Weekdays back, not 25 May: Fri 22, 21, 20, 19, 18 May; Fri 15, 14, 13, 12, 11 May.
    const start = Date.parse('2026-05-27T00:00:00Z');
    const b = baselineOf(start, pacific, ['2026-05-25']);
    expect(b.days).toEqual([
      '2026-05-22',
      '2026-05-21',
      '2026-05-20',
      '2026-05-19',
      '2026-05-18',
      '2026-05-15',
      '2026-05-14',
      '2026-05-13',
      '2026-05-12',
      '2026-05-11',
    ]);
    expect(levels(b)).toEqual([10]); // with the holiday's 4 kW in, 9.4
  });

  it('a Saturday event gets a weekend/holiday baseline that includes the weekday holiday (4-of-4)', () => {
    // Sat 30 May 2026 17:00 PDT = Sun 31 May 00:00 UTC. Weekend days and holidays back: Mon 25 May (Memorial Day),
    // Sun 24, Sat 23, Sun 17 May (the 4 most recent).
    const start = Date.parse('2026-05-31T00:00:00Z');
    const caiso: MarketTerms = { ...pacific, baseline: baselineRuleSchema.parse({ weekend_holiday: { n: 4, m: 4 } }) };
    const b = baselineOf(start, caiso, ['2026-05-25']);
    expect(b.days).toEqual(['2026-05-25', '2026-05-24', '2026-05-23', '2026-05-17']);
    expect(b.method).toBe('4-of-4');
    expect(levels(b)).toEqual([4]);
  });

  it('n of m: the n highest-load days of the m most recent', () => {
    // A 3-of-5 weekday rule on the Tuesday after Memorial Day: the 5 most recent weekdays are Fri 22, 21, 20, 19, 18
    // May, drawing 10, 14, 12, 8 and 16 kW at 17:00. The 3 highest: 18 May (16), 21 May (14), 20 May (12); their
    // mean, (16 + 14 + 12) / 3 = 14 kW.
    const start = Date.parse('2026-05-27T00:00:00Z');
    const terms: MarketTerms = { ...pacific, baseline: baselineRuleSchema.parse({ weekday: { n: 3, m: 5 } }) };
    const b = baselineOf(start, terms, ['2026-05-25'], {
      '2026-05-22': 10,
      '2026-05-21': 14,
      '2026-05-20': 12,
      '2026-05-19': 8,
      '2026-05-18': 16,
    });
    expect(b.method).toBe('3-of-5');
    expect(b.days).toEqual(['2026-05-21', '2026-05-20', '2026-05-18']);
    expect(levels(b)).toEqual([14]);
  });
});

describe('the US federal holiday calendar', () => {
  it('2026, observed dates (Independence Day on a Saturday: Friday 3 July)', () => {
    expect(usFederalHolidays(2026).map((h) => h.date)).toEqual([
      '2026-01-01', // Thursday
      '2026-01-19', // third Monday of January
      '2026-02-16', // third Monday of February
      '2026-05-25', // last Monday of May
      '2026-06-19', // Friday
      '2026-07-03', // 4 July is a Saturday
      '2026-09-07', // first Monday of September (1 Sep is a Tuesday)
      '2026-10-12', // second Monday of October
      '2026-11-11', // Wednesday
      '2026-11-26', // fourth Thursday of November
      '2026-12-25', // Friday
    ]);
  });

  it("a New Year's Day on a Saturday is observed on 31 December of the year before; Christmas on a Saturday, the 24th", () => {
    // 1 Jan 2028 is a Saturday; 25 Dec 2027 too.
    const y2027 = usFederalHolidays(2027).map((h) => h.date);
    expect(y2027).toContain('2027-12-31');
    expect(y2027).toContain('2027-12-24');
    expect(usFederalHolidays(2028).map((h) => h.date)).not.toContain('2028-01-01');
  });
});

describe("daily rollups in the portfolio's time zone", () => {
  /** A node drawing `kw` in every 15-minute interval of the local day, rolled up 15m → 1h → 1d as the pass does. */
  function day(date: string, kw: number) {
    const { start, end } = localDayBounds(date, LA);
    const hours = new Map<number, RollupRow[]>();
    for (let t = start; t < end; t += 900_000) {
      const h = bucketStart('1h', t, LA);
      hours.set(h, [...(hours.get(h) ?? []), intervalRow(t, [{ time: t, kw }], false)]);
    }
    const hourRows = [...hours].map(([h, rows]) => combine('1h', h, rows, LA));
    const dayStart = bucketStart('1d', start + 5 * H, LA);
    return { hourRows, row: combine('1d', dayStart, hourRows, LA), dayStart };
  }

  it('the spring-forward day is 23 hours: 92 intervals, 23 × 2 kW = 46 kWh', () => {
    const { hourRows, row, dayStart } = day('2026-03-08', 2);
    expect(new Date(dayStart).toISOString()).toBe('2026-03-08T08:00:00.000Z'); // midnight PST
    expect(new Date(bucketEnd('1d', dayStart, LA)).toISOString()).toBe('2026-03-09T07:00:00.000Z'); // midnight PDT
    expect(hourRows).toHaveLength(23);
    expect(row.intervals).toBe(92);
    expect(rollupView(row)).toMatchObject({ import_kwh: 46, mean_kw: 2, online_hours: 23 });
  });

  it('the fall-back day is 25 hours: 100 intervals, 25 × 2 kW = 50 kWh', () => {
    const { row, dayStart } = day('2026-11-01', 2);
    expect(new Date(dayStart).toISOString()).toBe('2026-11-01T07:00:00.000Z'); // midnight PDT
    expect(row.intervals).toBe(100);
    expect(rollupView(row)).toMatchObject({ import_kwh: 50, mean_kw: 2 });
  });

  it('a local month from local midnight to local midnight (March 2026: 31 days less an hour)', () => {
    const start = bucketStart('1mo', Date.parse('2026-03-15T12:00:00Z'), LA);
    expect(new Date(start).toISOString()).toBe('2026-03-01T08:00:00.000Z');
    expect(new Date(bucketEnd('1mo', start, LA)).toISOString()).toBe('2026-04-01T07:00:00.000Z');
  });
});

describe('program terms', () => {
  it('a Friday evening in Los Angeles is a Friday weekday, though a Saturday in UTC', () => {
    const terms: ProgramTerms = {
      program_id: 'p',
      time_zone: LA,
      holidays: 'none',
      baseline: baselineRuleSchema.parse({}),
      price_per_kwh: 1,
      currency: 'USD',
    };
    expect(marketDays(Date.parse('2026-03-07T01:00:00Z'), terms)).toMatchObject({
      date: '2026-03-06',
      type: 'weekday',
    });
    expect(marketDays(Date.parse('2026-03-07T01:00:00Z'), { ...terms, time_zone: 'UTC' })).toMatchObject({
      date: '2026-03-07',
      type: 'weekend_holiday',
    });
  });
});

describe('local days in any zone', () => {
  const zones = [
    'America/Los_Angeles',
    'Europe/London',
    'Australia/Lord_Howe',
    'America/Santiago',
    'Pacific/Chatham',
    'Asia/Kolkata',
    'UTC',
  ];
  it.each(zones)(
    '%s: every hour of 2026 maps back to itself through its local date and wall clock (the repeated hour to its first pass), and every local day starts on that date',
    (zone) => {
      let repeated = 0;
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 3_600_000) {
        const back = zonedInstant(localDate(t, zone), wallClockMs(t, zone), zone);
        if (back === t) continue;
        // the autumn change repeats a stretch of wall clock: its second pass maps to its first, that much earlier
        expect([localDate(back, zone), wallClockMs(back, zone)]).toEqual([localDate(t, zone), wallClockMs(t, zone)]);
        expect(back).toBeLessThan(t);
        repeated++;
      }
      expect(repeated).toBeLessThanOrEqual(2);
      const lengths = new Set<number>();
      for (let d = '2026-01-01'; d < '2027-01-01'; d = addDays(d, 1)) {
        const { start, end } = localDayBounds(d, zone);
        expect(localDate(start, zone)).toBe(d);
        lengths.add((end - start) / H);
      }
      // Lord Howe moves its clocks by half an hour
      expect([...lengths].every((h) => [23, 23.5, 24, 24.5, 25].includes(h))).toBe(true);
    },
  );
});
