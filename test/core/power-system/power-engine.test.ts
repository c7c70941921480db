// The Winter River power engine over hand-built topologies and the example file.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate, type NodeReport, type SystemState } from '../../../lambdas/core/power-system/engine.js';
import { parseTopology } from '../../../lambdas/core/power-system/topology-file.js';
import { checkTopology, type Topology } from '../../../lambdas/core/contracts/topology.js';

const T0 = Date.UTC(2024, 0, 1);
const sec = (s: number) => T0 + s * 1000;

function topology(nodes: object[]): Topology {
  const result = checkTopology({ nodes });
  if (!result.ok) throw new Error(result.message);
  return result.topology;
}

/** Feeds the engine one evaluation after another, as the controller would on each status. */
function controller(t: Topology, reports: Record<string, NodeReport>) {
  let state: SystemState | undefined;
  return {
    reports,
    at(seconds: number, changes: Record<string, NodeReport> = {}) {
      Object.assign(reports, changes);
      const result = evaluate(t, reports, sec(seconds), state);
      state = result.state;
      return { ...result, node: (id: string) => result.state.nodes[id]! };
    },
  };
}

const ok: NodeReport = { status: 'ok' };
const fault: NodeReport = { status: 'fault' };
const server = (power_kw: number): NodeReport => ({ status: 'ok', power_kw });
const types = (events: readonly { type: string; node_id: string }[]) => events.map((e) => `${e.type} ${e.node_id}`);

describe('single feed', () => {
  const t = topology([
    { id: 'util', kind: 'utility', rated_kw: 100 },
    { id: 'trf', kind: 'transformer', rated_kw: 50, loss_pct: 2, feeds: ['util'] },
    { id: 'pdu', kind: 'pdu', rated_kw: 20, loss_pct: 1, feeds: ['trf'] },
    { id: 'srv', kind: 'server', rated_kw: 12, feeds: ['pdu'] },
  ]);
  it('carries the server load up the chain with each node’s losses, all from the utility', () => {
    const r = controller(t, { srv: server(10) }).at(0);
    expect(
      Object.fromEntries(Object.entries(r.state.nodes).map(([id, n]) => [id, [n.energized, n.source, n.flow_kw]])),
    ).toEqual({
      util: [true, 'utility', 10.302],
      trf: [true, 'utility', 10.302],
      pdu: [true, 'utility', 10.1],
      srv: [true, 'utility', 10],
    });
    expect(r.node('trf')).toMatchObject({ load_pct: 20.6, overload: false });
    expect(r.events).toEqual([]);
    expect(r.commands).toEqual([]);
  });

  it('a fault on the way de-energises everything below it', () => {
    const c = controller(t, { srv: server(10) });
    c.at(0);
    const r = c.at(5, { trf: fault });
    expect(types(r.events)).toEqual(['power_lost trf', 'power_lost pdu', 'power_lost srv']);
    expect(r.node('util')).toMatchObject({ energized: true, flow_kw: 0 });
    expect(r.node('srv')).toMatchObject({ energized: false, source: null, flow_kw: 0 });
    expect(r.commands).toEqual(
      ['trf', 'pdu', 'srv'].map((node_id) => ({ node_id, command: 'set_energized', params: { state: false } })),
    );
  });
});

describe('A/B feeds', () => {
  const t = topology([
    { id: 'util_a', kind: 'utility', rated_kw: 100 },
    { id: 'util_b', kind: 'utility', rated_kw: 100 },
    { id: 'pdu_a', kind: 'pdu', rated_kw: 20, feeds: ['util_a'] },
    { id: 'pdu_b', kind: 'pdu', rated_kw: 20, feeds: ['util_b'] },
    { id: 'srv', kind: 'server', rated_kw: 12, feeds: ['pdu_a', 'pdu_b'] },
  ]);
  const cases: [string, Record<string, NodeReport>, Record<string, number>, string[]][] = [
    ['both sides up: half each', {}, { pdu_a: 5, pdu_b: 5, util_a: 5, util_b: 5 }, []],
    [
      'pdu_a faulted: side B carries it all',
      { pdu_a: fault },
      { pdu_a: 0, pdu_b: 10, util_a: 0, util_b: 10 },
      ['power_lost pdu_a'],
    ],
    [
      'util_a faulted: the same',
      { util_a: fault },
      { pdu_a: 0, pdu_b: 10, util_a: 0, util_b: 10 },
      ['power_lost util_a', 'power_lost pdu_a'],
    ],
    [
      'both sides faulted: the server goes dark',
      { pdu_a: fault, util_b: fault },
      { pdu_a: 0, pdu_b: 0, util_a: 0, util_b: 0 },
      ['power_lost util_b', 'power_lost pdu_a', 'power_lost pdu_b', 'power_lost srv'],
    ],
  ];
  it.each(cases)('%s', (_name, faults, flows, events) => {
    const c = controller(t, { srv: server(10) });
    c.at(0);
    const r = c.at(1, faults);
    expect(Object.fromEntries(Object.keys(flows).map((id) => [id, r.node(id).flow_kw]))).toEqual(flows);
    expect(r.node('srv').energized).toBe(events.length < 3);
    expect(types(r.events)).toEqual(events);
  });
});

describe('generator backup with a start delay', () => {
  const nodes = (withUps: boolean) => [
    { id: 'util', kind: 'utility', rated_kw: 100 },
    { id: 'gen', kind: 'generator', rated_kw: 50, start_delay_s: 30 },
    { id: 'sw', kind: 'switchgear', rated_kw: 100, feeds: ['util', 'gen'] },
    ...(withUps ? [{ id: 'ups', kind: 'ups', rated_kw: 40, battery_kwh: 10, feeds: ['sw'] }] : []),
    { id: 'srv', kind: 'server', rated_kw: 25, feeds: [withUps ? 'ups' : 'sw'] },
  ];

  it('the UPS covers the gap until the generator is online, then utility takes everything back', () => {
    const c = controller(topology(nodes(true)), { srv: server(20) });
    c.at(0);
    const lost = c.at(10, { util: fault });
    expect(types(lost.events)).toEqual([
      'power_lost util',
      'generator_start_requested gen',
      'power_lost sw',
      'source_changed ups',
      'ups_on_battery ups',
      'source_changed srv',
    ]);
    expect(lost.commands).toEqual([
      { node_id: 'util', command: 'set_energized', params: { state: false } },
      { node_id: 'gen', command: 'start_generator' },
      { node_id: 'sw', command: 'set_energized', params: { state: false } },
      { node_id: 'ups', command: 'set_source', params: { source: 'ups' } },
    ]);
    expect(lost.node('srv')).toMatchObject({ energized: true, source: 'ups' });
    expect(lost.node('ups')).toMatchObject({ battery_kwh_left: 10, minutes_left: 30 });

    expect(c.at(39).node('gen').energized).toBe(false);
    const online = c.at(40);
    expect(types(online.events)).toEqual([
      'generator_online gen',
      'power_restored sw',
      'source_changed ups',
      'source_changed srv',
    ]);
    expect(online.commands).toContainEqual({
      node_id: 'sw',
      command: 'set_source',
      params: { source: 'generator', feed: 'gen' },
    });
    expect(online.commands).toContainEqual({
      node_id: 'ups',
      command: 'set_source',
      params: { source: 'generator', feed: 'sw' },
    });
    expect(online.node('srv')).toMatchObject({ energized: true, source: 'generator' });
    expect(online.node('gen').flow_kw).toBe(20);
    expect(online.node('ups').battery_kwh_left).toBeCloseTo(10 - (20 * 30) / 3600, 3);

    const back = c.at(100, { util: ok });
    expect(types(back.events)).toEqual([
      'power_restored util',
      'generator_stopped gen',
      'restored_to_utility sw',
      'restored_to_utility ups',
      'restored_to_utility srv',
    ]);
    expect(back.commands).toContainEqual({ node_id: 'gen', command: 'stop_generator' });
    expect(back.commands).toContainEqual({
      node_id: 'sw',
      command: 'set_source',
      params: { source: 'utility', feed: 'util' },
    });
    expect(
      Object.values(back.state.nodes)
        .filter((n) => n.energized)
        .every((n) => n.source === 'utility'),
    ).toBe(true);
  });

  it('without a UPS the load drops for the start delay', () => {
    const c = controller(topology(nodes(false)), { srv: server(20) });
    c.at(0);
    expect(types(c.at(10, { util: fault }).events)).toContain('power_lost srv');
    expect(c.at(25).node('srv').energized).toBe(false);
    const r = c.at(40);
    expect(types(r.events)).toContain('power_restored srv');
    expect(r.node('srv')).toMatchObject({ energized: true, source: 'generator', flow_kw: 20 });
  });

  it('a faulted generator never comes online', () => {
    const c = controller(topology(nodes(false)), { srv: server(20), gen: fault });
    c.at(0);
    c.at(10, { util: fault });
    const r = c.at(100);
    expect(r.node('srv').energized).toBe(false);
    expect(r.state.generators['gen']).toEqual({ requested_at: sec(10), online: false });
    expect(types(r.events)).not.toContain('generator_online gen');
  });
});

describe('UPS ride-through running out', () => {
  const t = (loss_pct: number) =>
    topology([
      { id: 'util', kind: 'utility', rated_kw: 100 },
      { id: 'ups', kind: 'ups', rated_kw: 50, battery_kwh: 10, loss_pct, feeds: ['util'] },
      { id: 'srv', kind: 'server', rated_kw: 50, feeds: ['ups'] },
    ]);
  const cases: [number, number][] = [
    [0, 15],
    [5, (10 / 42) * 60],
  ];
  it.each(cases)('10 kWh under 40 kW of servers with %d %% UPS losses: %d minutes, to the second', (loss, minutes) => {
    const c = controller(t(loss), { srv: server(40) });
    c.at(0);
    const onBattery = c.at(60, { util: fault });
    expect(onBattery.node('ups').minutes_left).toBeCloseTo(minutes, 2);
    const later = c.at(60 + 300);
    expect(later.node('ups').minutes_left).toBeCloseTo(minutes - 5, 2);
    expect(later.node('srv').energized).toBe(true);
    const out = c.at(60 + 60 * 30);
    expect(out.events).toContainEqual({ type: 'ups_battery_exhausted', node_id: 'ups', at: sec(60 + minutes * 60) });
    expect(types(out.events)).toEqual(['ups_battery_exhausted ups', 'power_lost ups', 'power_lost srv']);
    expect(out.node('ups')).toMatchObject({ energized: false, battery_kwh_left: 0 });
  });

  it('back on its feed, the battery recharges (a quarter of it per hour)', () => {
    const c = controller(t(0), { srv: server(40) });
    c.at(0);
    c.at(60, { util: fault });
    c.at(60 + 450); // half gone
    expect(c.at(60 + 450, { util: ok }).node('ups').battery_kwh_left).toBe(5);
    expect(c.at(60 + 450 + 3600).node('ups').battery_kwh_left).toBe(7.5);
  });
});

describe('overload', () => {
  const t = topology([
    { id: 'util', kind: 'utility', rated_kw: 100 },
    { id: 'pdu', kind: 'pdu', rated_kw: 10, feeds: ['util'] },
    { id: 'srv', kind: 'server', rated_kw: 20, feeds: ['pdu'] },
  ]);
  it('is flagged with the load as a percentage of the rating, once as it starts and once as it clears', () => {
    const c = controller(t, { srv: server(8) });
    expect(c.at(0).node('pdu')).toMatchObject({ overload: false, load_pct: 80 });
    const over = c.at(5, { srv: server(12) });
    expect(over.node('pdu')).toMatchObject({ overload: true, load_pct: 120 });
    expect(over.events).toEqual([{ type: 'overload', node_id: 'pdu', at: sec(5), load_pct: 120 }]);
    expect(c.at(10).events).toEqual([]);
    expect(c.at(15, { srv: server(9) }).events).toEqual([
      { type: 'overload_cleared', node_id: 'pdu', at: sec(15), load_pct: 90 },
    ]);
  });
});

describe('the Winter River example (Winter River)', () => {
  const result = parseTopology(
    readFileSync(new URL('../../../device/winter-river.topology.yaml', import.meta.url), 'utf8'),
  );
  if (!result.ok) throw new Error(result.message);
  const winterRiver = result.topology;
  const reports = () => Object.fromEntries(winterRiver.nodes.map((n) => [n.id, n.id === 'srv_a' ? server(0.8) : ok]));
  const sources = (state: SystemState) =>
    Object.fromEntries(Object.entries(state.nodes).map(([id, n]) => [id, n.source]));
  const all = (source: string | null, ids: string[]) => Object.fromEntries(ids.map((id) => [id, source]));

  it('faulting util_a moves what is downstream to the UPS, then the generator; clearing it returns all to utility', () => {
    const c = controller(winterRiver, reports());
    expect(sources(c.at(0).state)).toEqual({
      ...all('utility', ['util_a', 'trf_a', 'sw_a', 'dist_a', 'ups_a', 'pdu_a', 'srv_a']),
      gen_a: null,
    });
    const lost = c.at(60, { util_a: fault });
    expect(sources(lost.state)).toEqual({
      ...all(null, ['util_a', 'trf_a', 'sw_a', 'dist_a', 'gen_a']),
      ...all('ups', ['ups_a', 'pdu_a', 'srv_a']),
    });
    expect(lost.commands).toContainEqual({ node_id: 'gen_a', command: 'start_generator' });
    const gen = c.at(70);
    expect(sources(gen.state)).toEqual({
      util_a: null,
      trf_a: null,
      ...all('generator', ['gen_a', 'sw_a', 'dist_a', 'ups_a', 'pdu_a', 'srv_a']),
    });
    const back = c.at(300, { util_a: ok });
    expect(sources(back.state)).toEqual({
      ...all('utility', ['util_a', 'trf_a', 'sw_a', 'dist_a', 'ups_a', 'pdu_a', 'srv_a']),
      gen_a: null,
    });
    expect(types(back.events).filter((e) => e.startsWith('restored_to_utility'))).toEqual(
      ['sw_a', 'dist_a', 'ups_a', 'pdu_a', 'srv_a'].map((id) => `restored_to_utility ${id}`),
    );
    expect(back.commands).toContainEqual({ node_id: 'gen_a', command: 'stop_generator' });
  });

  it('faulting trf_a de-energises what has no other source: itself for good, the switchgear and distribution until the generator runs', () => {
    const c = controller(winterRiver, reports());
    c.at(0);
    const lost = c.at(60, { trf_a: fault });
    expect(
      Object.entries(lost.state.nodes)
        .filter(([, n]) => !n.energized)
        .map(([id]) => id)
        .sort(),
    ).toEqual(['dist_a', 'gen_a', 'sw_a', 'trf_a']);
    expect(lost.node('util_a')).toMatchObject({ energized: true, flow_kw: 0 });
    const gen = c.at(70);
    expect(
      Object.entries(gen.state.nodes)
        .filter(([, n]) => !n.energized)
        .map(([id]) => id),
    ).toEqual(['trf_a']);
    expect(gen.node('srv_a')).toMatchObject({ energized: true, source: 'generator' });
  });
});
