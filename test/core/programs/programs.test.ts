// A program's event limits in its local days: seasons (one that wraps the year end), events per local day and per
// season, notice and duration, enrolment.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROGRAM,
  eventLimitsSchema,
  programBodySchema,
  type Program,
} from '../../../lambdas/core/contracts/programs.js';
import { checkEventCounts, countsSince, programEventVens, seasonOf } from '../../../lambdas/core/programs/programs.js';

const program = (limits: object, extra: Partial<Program> = {}): Program => ({
  ...DEFAULT_PROGRAM,
  built_in: undefined,
  program_id: 'p',
  time_zone: 'America/Los_Angeles',
  price_per_kwh: 1,
  ven_ids: ['ven-1', 'ven-2'],
  limits: eventLimitsSchema.parse(limits),
  ...extra,
});

describe('seasons', () => {
  it('a summer season holds its own dates only; a winter one wraps the year end', () => {
    const summer = program({ season: { from: '06-01', to: '09-30' } });
    expect(seasonOf(summer, '2026-07-04')).toEqual({ from: '2026-06-01', to: '2026-09-30' });
    expect(seasonOf(summer, '2026-10-01')).toBeUndefined();
    const winter = program({ season: { from: '11-01', to: '03-31' } });
    expect(seasonOf(winter, '2026-12-24')).toEqual({ from: '2026-11-01', to: '2027-03-31' });
    expect(seasonOf(winter, '2027-01-15')).toEqual({ from: '2026-11-01', to: '2027-03-31' });
    expect(seasonOf(winter, '2027-04-01')).toBeUndefined();
    expect(seasonOf(program({}), '2026-05-05')).toEqual({ from: '2026-01-01', to: '2026-12-31' });
  });
});

describe('event counts, in local days', () => {
  // 16:00 PDT on Fri 31 Jul 2026 = 23:00 UTC; 18:00 PDT = 01:00 UTC on Sat 1 Aug: the same local day
  const at = (iso: string) => Date.parse(iso);
  it('one a day: a second event the same Pacific evening is refused though UTC has turned to the next day', () => {
    const p = program({ max_events_per_day: 1 });
    expect(() => checkEventCounts(p, at('2026-08-01T01:00:00Z'), [at('2026-07-31T23:00:00Z')])).toThrow(
      /1 event\(s\) a day: 2026-07-31/,
    );
    // the next local day (Sat 1 Aug 17:00 PDT = 00:00 UTC Sun 2 Aug) is free
    expect(() => checkEventCounts(p, at('2026-08-02T00:00:00Z'), [at('2026-07-31T23:00:00Z')])).not.toThrow();
  });

  it("per season: the season's earlier events count, those before it do not; out of season is refused", () => {
    const p = program({ max_events_per_season: 2, season: { from: '06-01', to: '09-30' } });
    const inSeason = [at('2026-06-10T20:00:00Z'), at('2026-07-10T20:00:00Z')];
    expect(() => checkEventCounts(p, at('2026-08-10T20:00:00Z'), inSeason)).toThrow(
      /2 event\(s\) a season \(2026-06-01 to 2026-09-30\)/,
    );
    expect(() =>
      checkEventCounts(p, at('2026-08-10T20:00:00Z'), [at('2026-05-31T20:00:00Z'), inSeason[0]!]),
    ).not.toThrow();
    expect(() => countsSince(p, at('2026-10-02T20:00:00Z'))).toThrow(/from 06-01 to 09-30 only/);
    // counted from local midnight of 1 June (07:00 UTC)
    expect(new Date(countsSince(p, at('2026-08-10T20:00:00Z'))!).toISOString()).toBe('2026-06-01T07:00:00.000Z');
    expect(countsSince(program({}), at('2026-08-10T20:00:00Z'))).toBeUndefined();
  });
});

describe("an event's VENs and terms", () => {
  const now = Date.parse('2026-08-10T20:00:00Z');
  it('runs on the enrolled VENs, refuses one not enrolled, a duration out of bounds and too little notice', () => {
    const p = program({ min_duration_min: 30, max_duration_min: 120, notice_min: 0 });
    expect(programEventVens(p, { start: now, duration_sec: 3600 }, now)).toEqual(['ven-1', 'ven-2']);
    expect(programEventVens(p, { start: now, duration_sec: 3600, ven_ids: ['ven-2'] }, now)).toEqual(['ven-2']);
    expect(() => programEventVens(p, { start: now, duration_sec: 3600, ven_ids: ['ven-3'] }, now)).toThrow(
      /ven-3 is not enrolled/,
    );
    expect(() => programEventVens(p, { start: now, duration_sec: 600 }, now)).toThrow(/30 to 120 minutes/);
    expect(() =>
      programEventVens(program({ notice_min: 60 }), { start: now + 30 * 60_000, duration_sec: 3600 }, now),
    ).toThrow(/60 minutes' notice/);
    expect(
      programEventVens(program({ notice_min: 60 }), { start: now + 60 * 60_000, duration_sec: 3600 }, now),
    ).toEqual(['ven-1', 'ven-2']);
  });

  it('the built-in program takes any VEN (none named: every online one, as before programs)', () => {
    expect(programEventVens(DEFAULT_PROGRAM, { start: now, duration_sec: 60 }, now)).toBeUndefined();
    expect(programEventVens(DEFAULT_PROGRAM, { start: now, duration_sec: 60, ven_ids: ['ven-9'] }, now)).toEqual([
      'ven-9',
    ]);
  });

  it('a body with a zone spelt otherwise is stored in its canonical spelling', () => {
    const parsed = programBodySchema.parse({
      name: 'x',
      market: 'y',
      time_zone: 'america/los_angeles',
      price_per_kwh: 1,
    });
    expect(parsed.time_zone).toBe('America/Los_Angeles');
  });
});
