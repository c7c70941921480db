// The Winter River topology file: what it accepts and, naming the node, what it refuses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topologyOf } from '../../../lambdas/core/adapters.js';
import { parseTopology } from '../../../lambdas/core/power-system/topology-file.js';
import { checkTopology, topologyJson } from '../../../lambdas/core/contracts/topology.js';

const example = readFileSync(new URL('../../../device/winter-river.topology.yaml', import.meta.url), 'utf8');
const util = { id: 'util', kind: 'utility', rated_kw: 100 };
const srv = (id: string, feeds: string[]) => ({ id, kind: 'server', rated_kw: 1, feeds });

describe('topology', () => {
  it('reads the example: Winter River nodes, every node after its feeds, switchgear as a transfer switch', () => {
    const result = parseTopology(example);
    if (!result.ok) throw new Error(result.message);
    const ids = result.topology.nodes.map((n) => n.id);
    expect([...ids].sort()).toEqual(['dist_a', 'gen_a', 'pdu_a', 'srv_a', 'sw_a', 'trf_a', 'ups_a', 'util_a']);
    for (const n of result.topology.nodes)
      for (const f of n.feeds) expect(ids.indexOf(f), `${f} before ${n.id}`).toBeLessThan(ids.indexOf(n.id));
    expect(result.topology.byId.get('sw_a')).toMatchObject({ feed_mode: 'priority', feeds: ['trf_a', 'gen_a'] });
    expect(result.topology.byId.get('ups_a')).toMatchObject({ battery_kwh: 25, loss_pct: 5, feed_mode: 'shared' });
    expect(result.topology.children.get('sw_a')).toEqual(['dist_a']);
  });

  const refused: [string, unknown, string, RegExp][] = [
    [
      'a cycle',
      {
        nodes: [
          util,
          { id: 'a', kind: 'pdu', rated_kw: 1, feeds: ['util', 'c'] },
          { id: 'b', kind: 'pdu', rated_kw: 1, feeds: ['a'] },
          { id: 'c', kind: 'pdu', rated_kw: 1, feeds: ['b'] },
        ],
      },
      'nodes.1.feeds',
      /cycle: a → b → c → a/,
    ],
    [
      'a node feeding itself',
      { nodes: [util, { id: 'a', kind: 'pdu', rated_kw: 1, feeds: ['a'] }] },
      'nodes.1.feeds',
      /cycle: a → a/,
    ],
    ['an unknown feed', { nodes: [util, srv('s', ['pdu_x'])] }, 'nodes.1.feeds.0', /s is fed by unknown node pdu_x/],
    [
      'a feed listed twice',
      { nodes: [util, srv('s', ['util', 'util'])] },
      'nodes.1.feeds.1',
      /s lists feed util twice/,
    ],
    ['a duplicate id', { nodes: [util, srv('s', ['util']), srv('s', ['util'])] }, 'nodes.2.id', /duplicate node s/],
    [
      'a server with no path to a source',
      { nodes: [util, srv('s', ['util']), { id: 'p', kind: 'pdu', rated_kw: 1 }, srv('t', ['p'])] },
      'nodes.3.feeds',
      /server t has no path to a utility or generator/,
    ],
    [
      'a server behind a ups with no feed',
      { nodes: [util, { id: 'u', kind: 'ups', rated_kw: 1, battery_kwh: 1 }, srv('t', ['u'])] },
      'nodes.2.feeds',
      /server t has no path/,
    ],
    [
      'a pdu with no feed',
      { nodes: [util, srv('s', ['util']), { id: 'p', kind: 'pdu', rated_kw: 1 }] },
      'nodes.2.feeds',
      /pdu p has no path/,
    ],
    [
      'a feed from a server',
      {
        nodes: [
          util,
          { id: 'gen', kind: 'generator', rated_kw: 1 },
          srv('s', ['util']),
          srv('t', ['pdu']),
          { id: 'pdu', kind: 'pdu', rated_kw: 1, feeds: ['u2'] },
          { id: 'u2', kind: 'ups', rated_kw: 1, battery_kwh: 1, feeds: ['s'] },
        ],
      },
      'nodes.5.feeds.0',
      /fed by server s/,
    ],
    ['an unknown kind', { nodes: [{ id: 'x', kind: 'reactor', rated_kw: 1 }] }, 'nodes.0.kind', /utility, transformer/],
    [
      'a ups without a battery',
      { nodes: [util, { id: 'u', kind: 'ups', rated_kw: 1, feeds: ['util'] }] },
      'nodes.1.battery_kwh',
      /number/,
    ],
    [
      'a utility with a feed',
      { nodes: [util, { id: 'u2', kind: 'utility', rated_kw: 1, feeds: ['util'] }] },
      'nodes.1.feeds',
      /a utility is a source/,
    ],
    ['a negative rating', { nodes: [{ ...util, rated_kw: -5 }] }, 'nodes.0.rated_kw', /.+/],
  ];
  it.each(refused)('refuses %s, naming the node', (_name, raw, field, message) => {
    const result = checkTopology(raw);
    expect(result).toMatchObject({ ok: false, field });
    expect(!result.ok && result.message).toMatch(message);
  });

  it('accepts A/B feeds and a server fed by a generator alone', () => {
    const raw = {
      nodes: [
        util,
        { id: 'gen', kind: 'generator', rated_kw: 5 },
        { id: 'pa', kind: 'pdu', rated_kw: 1, feeds: ['util'] },
        { id: 'pb', kind: 'pdu', rated_kw: 1, feeds: ['gen'] },
        srv('s', ['pa', 'pb']),
        srv('t', ['pb']),
      ],
    };
    expect(checkTopology(raw)).toMatchObject({ ok: true });
  });
});

describe('the topology a Lambda is deployed with (WINTER_RIVER_TOPOLOGY)', () => {
  const example = parseTopology(
    readFileSync(join(import.meta.dirname, '../../../device/winter-river.topology.yaml'), 'utf8'),
  );
  if (!example.ok) throw new Error(example.message);

  it('reads back what the stack wrote, node for node', () => {
    expect(topologyOf({ WINTER_RIVER_TOPOLOGY: topologyJson(example.topology) }).nodes).toEqual(example.topology.nodes);
  });

  it('refuses at synth a chain too large for the Lambda environment, saying so', () => {
    const big = checkTopology({
      nodes: [
        { id: 'util', kind: 'utility', rated_kw: 1000 },
        ...Array.from({ length: 40 }, (_, i) => ({ id: `srv_${i}`, kind: 'server', rated_kw: 1, feeds: ['util'] })),
      ],
    });
    if (!big.ok) throw new Error(big.message);
    expect(() => topologyJson(big.topology)).toThrow(/bytes as JSON: at most 2500 fit in a Lambda's environment/);
  });

  it.each([
    ['not JSON', '{nodes:', /WINTER_RIVER_TOPOLOGY: not JSON/],
    [
      'an unknown feed',
      JSON.stringify({ nodes: [{ id: 's', kind: 'server', rated_kw: 1, feeds: ['x'] }] }),
      /WINTER_RIVER_TOPOLOGY: nodes\.0\.feeds\.0: s is fed by unknown node x/,
    ],
  ])('fails the cold start loudly on %s', (_name, value, message) => {
    expect(() => topologyOf({ WINTER_RIVER_TOPOLOGY: value })).toThrow(message);
  });
});
