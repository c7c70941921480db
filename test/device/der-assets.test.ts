// The asset simulators of the gateway: PV by the sun, wind by its curve, EV sessions, BESS energy.
import { describe, expect, it } from 'vitest';
import { BessModel } from '../../device/assets/bess.js';
import { EvModel } from '../../device/assets/ev.js';
import { clearSkyIrradiance, PvModel } from '../../device/assets/pv.js';
import { WindModel, windPowerMw } from '../../device/assets/wind.js';
import { seededRng } from '../../device/random.js';
import { at, bess, ev, pv, wind } from './der-helpers.js';

describe('PV follows the sun', () => {
  const cases: [number, number][] = [
    [0, 0],
    [5.5, 0],
    [6, 0],
    [9, 707.1],
    [12, 1000],
    [15, 707.1],
    [18, 0],
    [23, 0],
    [36, 1000],
  ];
  it.each(cases)('clear sky at %d h solar time: %d W/m²', (hour, wm2) => {
    expect(clearSkyIrradiance(hour)).toBeCloseTo(wm2, 1);
  });

  it('over a day, in 10-minute ticks: nothing at night, the most around noon', () => {
    const p = new PvModel(pv('pv'), seededRng(7), at(0));
    const byHour = new Map<number, number>();
    for (let t = at(0); t <= at(24); t += 600_000) {
      p.step(600, t);
      const hour = (t - at(0)) / 3_600_000;
      byHour.set(hour, p.mw);
      if (hour <= 6 || hour >= 18) expect(p.mw, `${hour} h`).toBe(0);
    }
    const peakHour = [...byHour].reduce((best, cur) => (cur[1] > best[1] ? cur : best))[0];
    expect(peakHour).toBeGreaterThanOrEqual(11);
    expect(peakHour).toBeLessThanOrEqual(13);
    expect(byHour.get(12)!).toBeGreaterThan(3.9);
    expect(byHour.get(12)!).toBeGreaterThan(byHour.get(9)! + 0.5);
    expect(byHour.get(12)!).toBeGreaterThan(byHour.get(15)! + 0.5);
  });

  it('keeps to its export limit and says it is curtailed, and shifts the day by utc_offset_h', () => {
    const capped = new PvModel(pv('pv', { max_mw: 2 }), seededRng(7), at(12));
    expect(capped.mw).toBe(2);
    expect(capped.telemetry(at(12))).toMatchObject({ inverter_state: 'curtailed', curtailment_reason: 'export_limit' });
    expect(new PvModel(pv('pv', { utc_offset_h: 10 }), seededRng(7), at(2)).mw).toBeGreaterThan(3.9);
  });
});

describe('wind', () => {
  const curve: [number, number][] = [
    [0, 0],
    [2.9, 0],
    [3, 0],
    [7.5, (3 * (7.5 ** 3 - 27)) / (12 ** 3 - 27)],
    [12, 3],
    [20, 3],
    [25, 0],
    [30, 0],
  ];
  it.each(curve)('the power curve at %d m/s gives %d MW', (speed, mw) => {
    expect(windPowerMw(wind('w'), speed)).toBeCloseTo(mw, 9);
  });

  it('its speed wanders smoothly around the mean, reproducibly', () => {
    const run = () => {
      const w = new WindModel(wind('w'), seededRng(11));
      const speeds: number[] = [];
      for (let i = 0; i < 2000; i++) {
        w.step(5);
        speeds.push(w.windSpeedMs);
      }
      return speeds;
    };
    const speeds = run();
    expect(run()).toEqual(speeds);
    for (let i = 1; i < speeds.length; i++) expect(Math.abs(speeds[i]! - speeds[i - 1]!)).toBeLessThan(0.5);
    expect(Math.max(...speeds) - Math.min(...speeds)).toBeGreaterThan(1);
    expect(speeds.reduce((s, v) => s + v, 0) / speeds.length).toBeGreaterThan(4);
    expect(speeds.reduce((s, v) => s + v, 0) / speeds.length).toBeLessThan(12);
  });
});

describe('EV sessions come and go within the station limit', () => {
  it('a day in 1-minute ticks: never more sessions than ports, a session never over its port, the station never over its limit', () => {
    // 8 ports of 200 kW could draw 1.6 MW: the 0.5 MW station limit binds when three cars charge at once.
    const e = new EvModel(ev('ev', { min_mw: -0.5, capacity_mw: 0.5, port_max_kw: 200 }), seededRng(5), at(0));
    let limited = 0;
    let most = 0;
    let departures = 0;
    let busy = 0;
    for (let t = at(0) + 60_000; t <= at(24); t += 60_000) {
      const before = new Set(e.sessions);
      e.step(60, t);
      departures += [...before].filter((s) => !e.sessions.includes(s)).length;
      most = Math.max(most, e.sessions.length);
      if (e.mw < 0) busy++;
      expect(e.sessions.length).toBeLessThanOrEqual(8);
      expect(-e.mw).toBeLessThanOrEqual(0.5 + 1e-9);
      if (e.demandMw > 0.5) limited++;
      for (const s of e.sessions) expect(s.drawMw).toBeLessThanOrEqual(0.2 + 1e-9);
      expect(new Set(e.sessions.map((s) => s.port)).size).toBe(e.sessions.length);
    }
    expect(most).toBeGreaterThanOrEqual(4);
    expect(limited).toBeGreaterThan(0);
    expect(departures).toBeGreaterThan(10);
    expect(busy).toBeGreaterThan(300);
    expect(e.energyDeliveredMwh).toBeGreaterThan(0.3);
  });

  it('with more cars than the station can feed, they share its limit, and a charge limit holds them lower', () => {
    const e = new EvModel(ev('ev', { min_mw: -0.6 }), seededRng(5), at(0));
    e.sessions = [0, 1, 2, 3, 4, 5].map((port) => ({
      port,
      needMwh: 1,
      departsMs: at(10),
      deliveredMwh: 0,
      drawMw: 0,
    }));
    e.step(60, at(0) + 60_000);
    expect(e.mw).toBeCloseTo(-0.6, 9);
    e.setSetpoint(-0.3);
    e.step(60, at(0) + 120_000);
    expect(e.mw).toBeCloseTo(-0.3, 9);
    expect(e.telemetry(at(0))).toMatchObject({ station_state: 'charging', active_sessions: 6 });
  });
});

describe('BESS SOC integrates its power', () => {
  const cases: [string, number, number, number][] = [
    ['1 h at 1 MW on a 4 MWh battery: 50 % → 25 %', 1, 1, 25],
    ['1 h at -1 MW, 90 % efficient: 50 % → 72.5 %', -1, 0.9, 72.5],
    ['1 h at 3 MW stops at its 10 % floor', 3, 1, 10],
  ];
  it.each(cases)('%s', (_name, mw, efficiency, soc) => {
    const b = new BessModel(bess('b', { efficiency }));
    b.setSetpoint(mw);
    for (let i = 0; i < 720; i++) b.step(5);
    expect(b.socPct).toBeCloseTo(soc, 6);
    expect(b.telemetry()).toMatchObject({ soc_mwh: (4 * soc) / 100, energy_mwh: 4 });
  });
});
