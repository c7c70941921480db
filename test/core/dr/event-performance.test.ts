// Judging intervals (running, coverage, over) and an event's result. The fleet's intervals over VENs measured over different spans: a VEN restored early (its commitment released) has
// fewer intervals than the event, and its shed counts only in the intervals it was measured in.
import { describe, expect, it } from 'vitest';
import {
  eventResult,
  fleetIntervals,
  judge,
  MIN_COVERAGE,
  type IntervalPerformance,
  type VenPerformance,
} from '../../../lambdas/core/dr/event-performance.js';

const iv = (start: number, end: number, shed: number | null): IntervalPerformance => ({
  start,
  end,
  samples: shed === null ? 0 : 1,
  baseline_kw: shed === null ? null : 10,
  metered_kw: shed === null ? null : 10 - shed,
  shed_kw: shed,
  commitment_kw: 4,
  expected_samples: 60,
  coverage: 0,
  result: 'no-data',
  pass: null,
});
const ven = (...intervals: IntervalPerformance[]): VenPerformance => ({
  metered_kw: null,
  baseline_kw: null,
  measured_shed_kw: null,
  samples: 0,
  intervals,
});

describe('fleetIntervals', () => {
  it('spans the longest VEN and adds each VEN only where it was measured (released VENs end early)', () => {
    const released = ven(iv(0, 300, 2), iv(300, 420, 1)); // restored at 420
    const whole = ven(iv(0, 300, 3), iv(300, 600, 4), iv(600, 900, 5));
    const fleet = fleetIntervals([released, whole], 6, 900);
    expect(fleet.map((f) => [f.start, f.end, f.vens, f.shed_kw])).toEqual([
      [0, 300, 2, 5],
      [300, 600, 2, 5],
      [600, 900, 1, 5],
    ]);
    // the order of the VENs makes no difference
    expect(fleetIntervals([whole, released], 6, 900).map((f) => f.shed_kw)).toEqual([5, 5, 5]);
  });
});

describe('judge', () => {
  const closed = { end: 300_000, expected_samples: 60, commitment_kw: 10 };
  it('leaves an interval that has not closed `running`, whatever it measured so far', () => {
    expect(judge({ ...closed, samples: 60, shed_kw: 10 }, 299_999)).toMatchObject({
      result: 'running',
      pass: null,
      coverage: 1,
    });
    expect(judge({ ...closed, samples: 60, shed_kw: 10 }, 300_000)).toMatchObject({ result: 'pass', pass: true });
  });

  it(`judges only on at least ${MIN_COVERAGE * 100}% of the expected readings, and says so`, () => {
    expect(judge({ ...closed, samples: 48, shed_kw: 10 }, 300_000)).toMatchObject({ result: 'pass', coverage: 0.8 });
    expect(judge({ ...closed, samples: 47, shed_kw: 10 }, 300_000)).toEqual({
      result: 'insufficient',
      coverage: 0.78,
      pass: null,
      reason: '47 of 60 readings: under 80% of them, not judged',
    });
    expect(judge({ ...closed, samples: 0, shed_kw: null }, 300_000)).toMatchObject({ result: 'no-data', pass: null });
  });

  it('marks over-delivery `over` with why, apart from a shortfall', () => {
    expect(judge({ ...closed, samples: 60, shed_kw: 11 }, 300_000)).toMatchObject({ result: 'pass' });
    expect(judge({ ...closed, samples: 60, shed_kw: 11.1 }, 300_000)).toEqual({
      result: 'over',
      coverage: 1,
      pass: false,
      reason: 'shed 11.1 kW is above the commitment 10 kW + 10% (11 kW)',
    });
    expect(judge({ ...closed, samples: 60, shed_kw: 8.9 }, 300_000)).toMatchObject({ result: 'fail', pass: false });
  });

  it('gives an event a result only once every interval has closed', () => {
    expect(eventResult([{ result: 'pass' }, { result: 'running' }])).toBeNull();
    expect(eventResult([])).toBeNull();
    expect(eventResult([{ result: 'pass' }, { result: 'pass' }])).toBe('pass');
    expect(eventResult([{ result: 'pass' }, { result: 'over' }])).toBe('over');
    expect(eventResult([{ result: 'over' }, { result: 'insufficient' }])).toBe('fail');
  });
});
