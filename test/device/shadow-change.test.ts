// When the economy profile reports a VEN's shadow before its heartbeat.
import { describe, expect, it } from 'vitest';
import { shadowChange, type ReportedView } from '../../device/shadow-change.js';

const base: ReportedView = {
  power_kw: 10,
  shed_kw: 0,
  circuits: [
    { id: 'c1', enabled: true, critical: false },
    { id: 'c2', enabled: true, critical: true },
  ],
  active_event: null,
  reporting_interval_sec: 5,
  circuit_enabled: { c1: true, c2: true },
};

describe('shadowChange', () => {
  it('reports the first document, and nothing when nothing changed', () => {
    expect(shadowChange(undefined, base)).toBe('first');
    expect(shadowChange(base, { ...base })).toBeNull();
  });

  it('a material power change is at least 1 kW and at least 10% of what was reported', () => {
    expect(shadowChange(base, { ...base, power_kw: 10.99 })).toBeNull();
    expect(shadowChange(base, { ...base, power_kw: 11 })).toBe('power');
    expect(shadowChange(base, { ...base, power_kw: 9 })).toBe('power');
    const big = { ...base, power_kw: 30 };
    expect(shadowChange(big, { ...big, power_kw: 32.9 })).toBeNull();
    expect(shadowChange(big, { ...big, power_kw: 33 })).toBe('power');
    const idle = { ...base, power_kw: 0.2 };
    expect(shadowChange(idle, { ...idle, power_kw: 0.9 })).toBeNull();
    expect(shadowChange(base, { ...base, shed_kw: 1.5 })).toBe('power');
  });

  it('reports an event starting, ending or replaced, a circuit switched or shed, the critical set and the reporting interval', () => {
    const during = { ...base, active_event: { event_id: 'e1' } };
    expect(shadowChange(base, during)).toBe('event');
    expect(shadowChange(during, base)).toBe('event');
    expect(shadowChange(during, { ...base, active_event: { event_id: 'e2' } })).toBe('event');
    expect(
      shadowChange(base, { ...base, circuits: [{ id: 'c1', enabled: false, critical: false }, base.circuits[1]!] }),
    ).toBe('circuits');
    expect(shadowChange(base, { ...base, circuit_enabled: { c1: false, c2: true } })).toBe('circuits');
    expect(
      shadowChange(base, { ...base, circuits: [base.circuits[0]!, { id: 'c2', enabled: true, critical: false }] }),
    ).toBe('critical');
    expect(shadowChange(base, { ...base, reporting_interval_sec: 10 })).toBe('interval');
  });
});
