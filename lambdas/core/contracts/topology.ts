// The Winter River power chain (Winter River) as a graph: which node feeds which, each node's rating and losses.
// Pure: the file arrives as text. Refused: a cycle, an unknown feed, a duplicate id, a server with no path to a source.
import * as z from 'zod';
import { parse } from './schemas.js';
import { THING_NAME } from './topics.js';

export const NODE_KINDS = [
  'utility',
  'transformer',
  'switchgear',
  'generator',
  'distribution',
  'ups',
  'pdu',
  'server',
] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

const kw = z.number().finite().positive().max(1_000_000);
const base = {
  id: z.string().regex(THING_NAME, 'must be a node id (a-z A-Z 0-9 : _ -)'),
  rated_kw: kw,
  /** Losses as a share of what the node passes on. */
  loss_pct: z.number().finite().min(0).max(50).default(0),
  /**
   * Two or more feeds: `priority` takes the first one with power (a transfer switch, the default for switchgear),
   * `shared` draws equally from every feed with power (A/B power supplies, the default for everything else).
   */
  feed_mode: z.enum(['priority', 'shared']).optional(),
};
const feeds = z.array(z.string().min(1).max(128)).max(8).default([]);

const nodeSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({
      ...base,
      kind: z.literal('utility'),
      feeds: z.array(z.string()).max(0, 'a utility is a source: it has no feeds').default([]),
    }),
    z.object({
      ...base,
      kind: z.literal('generator'),
      feeds: z.array(z.string()).max(0, 'a generator is a source: it has no feeds').default([]),
      start_delay_s: z.number().finite().min(0).max(3600).default(10),
    }),
    z.object({ ...base, kind: z.literal('ups'), feeds, battery_kwh: kw }),
    ...(['transformer', 'switchgear', 'distribution', 'pdu', 'server'] as const).map((k) =>
      z.object({ ...base, kind: z.literal(k), feeds }),
    ),
  ],
  { error: `must be one of ${NODE_KINDS.join(', ')}` },
);

export const topologyFileSchema = z.object({ nodes: z.array(nodeSchema).min(1).max(10_000) });
export type TopologyNode = z.infer<typeof nodeSchema> & { readonly feed_mode: 'priority' | 'shared' };

export interface Topology {
  /** Sources first: every node after all of its feeds. */
  readonly nodes: readonly TopologyNode[];
  readonly byId: ReadonlyMap<string, TopologyNode>;
  /** Who each node feeds. */
  readonly children: ReadonlyMap<string, readonly string[]>;
}

export type TopologyResult = { ok: true; topology: Topology } | { ok: false; field: string; message: string };

export const fail = (field: string, message: string): TopologyResult => ({
  ok: false,
  field,
  message: `${field}: ${message}`,
});

/** Validates a topology given as data (parsed YAML or JSON). */
export function checkTopology(raw: unknown): TopologyResult {
  const parsed = parse(topologyFileSchema, raw);
  if (!parsed.ok) return parsed;
  const nodes = parsed.value.nodes.map(
    (n) => ({ ...n, feed_mode: n.feed_mode ?? (n.kind === 'switchgear' ? 'priority' : 'shared') }) as TopologyNode,
  );
  const byId = new Map<string, TopologyNode>();
  const index = new Map<string, number>();
  for (const [i, n] of nodes.entries()) {
    if (byId.has(n.id)) return fail(`nodes.${i}.id`, `duplicate node ${n.id}`);
    byId.set(n.id, n);
    index.set(n.id, i);
  }
  const children = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const [i, n] of nodes.entries()) {
    for (const [j, f] of n.feeds.entries()) {
      const feed = byId.get(f);
      if (!feed) return fail(`nodes.${i}.feeds.${j}`, `${n.id} is fed by unknown node ${f}`);
      if (feed.kind === 'server')
        return fail(`nodes.${i}.feeds.${j}`, `${n.id} is fed by server ${f}: a server feeds nothing`);
      if (n.feeds.indexOf(f) !== j) return fail(`nodes.${i}.feeds.${j}`, `${n.id} lists feed ${f} twice`);
      children.get(f)!.push(n.id);
    }
  }
  const order = topologicalOrder(nodes, byId);
  if (!order.ok) return fail(`nodes.${index.get(order.cycle[0]!)}.feeds`, `cycle: ${order.cycle.join(' → ')}`);
  const reachable = new Set<string>();
  for (const n of order.nodes) {
    if (n.kind === 'utility' || n.kind === 'generator' || n.feeds.some((f) => reachable.has(f))) reachable.add(n.id);
  }
  // A server first: it is what loses power; then anything else left hanging (a PDU with no feed).
  const stranded =
    nodes.find((n) => n.kind === 'server' && !reachable.has(n.id)) ?? nodes.find((n) => !reachable.has(n.id));
  if (stranded)
    return fail(
      `nodes.${index.get(stranded.id)}.feeds`,
      `${stranded.kind} ${stranded.id} has no path to a utility or generator`,
    );
  return { ok: true, topology: { nodes: order.nodes, byId, children } };
}

type Order = { ok: true; nodes: TopologyNode[] } | { ok: false; cycle: string[] };

/** Depth-first over feeds; a feed met again while still open closes a cycle, reported from where it starts. */
function topologicalOrder(nodes: readonly TopologyNode[], byId: ReadonlyMap<string, TopologyNode>): Order {
  const done = new Set<string>();
  const open: string[] = [];
  const out: TopologyNode[] = [];
  const visit = (id: string): string[] | undefined => {
    if (done.has(id)) return undefined;
    const at = open.indexOf(id);
    if (at >= 0) return [...open.slice(at), id];
    open.push(id);
    for (const f of byId.get(id)!.feeds) {
      const cycle = visit(f);
      if (cycle) return cycle;
    }
    open.pop();
    done.add(id);
    out.push(byId.get(id)!);
    return undefined;
  };
  for (const n of nodes) {
    const cycle = visit(n.id);
    if (cycle) return { ok: false, cycle: cycle.reverse() };
  }
  return { ok: true, nodes: out };
}

/**
 * Lambda's environment holds 4 KB in all: the topology may take this much of it (about 25 nodes of the example's
 * kind); a larger chain fails synth with this reason rather than the deployment.
 */
export const MAX_TOPOLOGY_ENV_BYTES = 2_500;

/** The topology as the Lambdas' `WINTER_RIVER_TOPOLOGY` carries it: checkTopology reads it back. */
export function topologyJson(topology: Topology): string {
  const json = JSON.stringify({ nodes: topology.nodes });
  const bytes = new TextEncoder().encode(json).length;
  if (bytes > MAX_TOPOLOGY_ENV_BYTES) {
    throw new Error(
      `the Winter River topology is ${bytes} bytes as JSON: at most ${MAX_TOPOLOGY_ENV_BYTES} fit in a Lambda's environment (WINTER_RIVER_TOPOLOGY)`,
    );
  }
  return json;
}
