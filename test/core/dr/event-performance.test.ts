// The fleet's intervals over VENs measured over different spans: a VEN restored early (its commitment released) has
// fewer intervals than the event, and its shed counts only in the intervals it was measured in.
import { describe, expect, it } from 'vitest';
import { fleetIntervals, type IntervalPerformance, type VenPerformance } from '../../../lambdas/core/dr/event-performance.js';

const iv = (start: number, end: number, shed: number | null): IntervalPerformance => ({
  start, end, samples: shed === null ? 0 : 1, baseline_kw: shed === null ? null : 10, metered_kw: shed === null ? null : 10 - shed,
  shed_kw: shed, commitment_kw: 4, pass: null,
});
const ven = (...intervals: IntervalPerformance[]): VenPerformance => ({ metered_kw: null, baseline_kw: null, measured_shed_kw: null, samples: 0, intervals });

describe('fleetIntervals', () => {
  it('spans the longest VEN and adds each VEN only where it was measured (released VENs end early)', () => {
    const released = ven(iv(0, 300, 2), iv(300, 420, 1)); // restored at 420
    const whole = ven(iv(0, 300, 3), iv(300, 600, 4), iv(600, 900, 5));
    const fleet = fleetIntervals([released, whole], 6);
    expect(fleet.map((f) => [f.start, f.end, f.vens, f.shed_kw])).toEqual([[0, 300, 2, 5], [300, 600, 2, 5], [600, 900, 1, 5]]);
    // the order of the VENs makes no difference
    expect(fleetIntervals([whole, released], 6).map((f) => f.shed_kw)).toEqual([5, 5, 5]);
  });
});
