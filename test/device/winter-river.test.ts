import { describe, expect, it } from 'vitest';
import { WinterRiverNode } from '../../device/winter-river.js';
import { seededRng } from '../../device/random.js';
import { parse, winterRiverStatusSchema, type WinterRiverCommand } from '../../lambdas/core/contracts/schemas.js';
import { fixture } from '../fixture.js';

const T0 = 1_729_700_000_000;

describe('Winter River node', () => {
  it('publishes the example status keys (and whether it has power), valid, with uptime from its start', () => {
    const node = new WinterRiverNode('pdu_a', seededRng(1), T0);
    const status = node.status(T0 + 3_600_000);
    expect(parse(winterRiverStatusSchema, status)).toMatchObject({ ok: true });
    expect(Object.keys(status).sort()).toEqual([...Object.keys(fixture('winter-river-status')), 'energized'].sort());
    expect(status).toMatchObject({ node_id: 'pdu_a', status: 'ok', uptime: 3600 });
    expect(status.voltage_in).toBeGreaterThan(470);
    expect(status.power_kw).toBeGreaterThan(5);
    expect(status.current).toBeCloseTo(((status.power_kw ?? 0) * 1000) / (status.voltage_in ?? 1), 1);
  });

  it('set_fault true reports fault with no load; false clears it', () => {
    const node = new WinterRiverNode('ups_a', seededRng(2), T0);
    expect(node.apply(fixture('winter-river-command') as WinterRiverCommand)).toEqual({
      ok: true,
      changed: true,
    });
    expect(node.status(T0)).toMatchObject({ status: 'fault', power_kw: 0, current: 0 });
    expect(node.apply({ command: 'set_fault', params: { state: true } })).toEqual({ ok: true, changed: false });
    node.apply({ command: 'set_fault', params: { state: false } });
    expect(node.status(T0).status).toBe('ok');
  });

  it('refuses unknown commands and a set_fault without a boolean state', () => {
    const node = new WinterRiverNode('srv_a', seededRng(3), T0);
    expect(node.apply({ command: 'reboot' })).toMatchObject({ ok: false, message: 'unknown command reboot' });
    expect(node.apply({ command: 'set_fault', params: { state: 'yes' } })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/params.state/),
    });
    expect(node.fault).toBe(false);
  });

  it('obeys the controller: set_energized, set_source, start_generator and stop_generator show in its status', () => {
    const srv = new WinterRiverNode('srv_a', seededRng(4), T0);
    expect(srv.apply({ command: 'set_energized', params: { state: false } })).toEqual({ ok: true, changed: true });
    expect(srv.status(T0)).toMatchObject({ status: 'ok', energized: false, power_kw: 0, current: 0, voltage_in: 0 });
    srv.apply({ command: 'set_energized', params: { state: true } });
    expect(srv.status(T0)).toMatchObject({ energized: true, power_kw: expect.any(Number) });
    expect(srv.status(T0).power_kw).toBeGreaterThan(0.5);

    const sw = new WinterRiverNode('sw_a', seededRng(5), T0);
    expect(sw.apply({ command: 'set_source', params: { source: 'generator', feed: 'gen_a' } })).toEqual({
      ok: true,
      changed: true,
    });
    expect(sw.status(T0)).toMatchObject({ source: 'generator', feed: 'gen_a' });
    expect(sw.apply({ command: 'set_source', params: { source: 'diesel' } })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/params.source/),
    });
    const ups = new WinterRiverNode('ups_a', seededRng(6), T0);
    ups.apply({ command: 'set_source', params: { source: 'ups' } });
    expect(ups.status(T0)).toMatchObject({ source: 'ups', energized: true });
    expect(ups.status(T0)).not.toHaveProperty('feed');

    const gen = new WinterRiverNode('gen_a', seededRng(7), T0);
    expect(gen.status(T0)).toMatchObject({ running: false, power_kw: 0 });
    expect(gen.apply({ command: 'start_generator' })).toEqual({ ok: true, changed: true });
    expect(gen.status(T0).power_kw).toBeGreaterThan(0);
    expect(gen.status(T0)).toMatchObject({ running: true });
    gen.apply({ command: 'stop_generator' });
    expect(gen.status(T0)).toMatchObject({ running: false, power_kw: 0 });
  });

  it('takes its nominal voltage from the node kind', () => {
    expect(new WinterRiverNode('srv_b', seededRng(1), T0).status(T0).voltage_in).toBeLessThan(220);
    expect(new WinterRiverNode('util_a', seededRng(1), T0).status(T0).voltage_in).toBeGreaterThan(4000);
  });
});
