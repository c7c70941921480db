// The Winter River chain as a one-line diagram in the DOM: each node of the topology in feed order, indented by its
// depth from the sources, with what it runs from, the power through it, overload and UPS time left; then the recent
// propagation events. Every string is a text node.
import type { WinterRiverSystem } from '../api/types.js';
import { num, time } from '../format.js';
import { Badge } from './ui.js';

type SystemNode = WinterRiverSystem['nodes'][number];

const sourceLabel = (n: SystemNode) =>
  n.energized === null ? 'not evaluated' : n.energized ? `on ${n.source}` : 'no power';
const tone = (n: SystemNode) =>
  n.energized === null ? 'muted' : !n.energized ? 'bad' : n.overload ? 'warn' : n.source === 'utility' ? 'ok' : 'info';

/** Depth from the sources: the nodes come sources first, every node after its feeds. */
function depths(nodes: readonly SystemNode[]): Map<string, number> {
  const depth = new Map<string, number>();
  for (const n of nodes)
    depth.set(n.node_id, n.feeds.length ? 1 + Math.max(...n.feeds.map((f) => depth.get(f) ?? 0)) : 0);
  return depth;
}

export function PowerChain({ system }: { system: WinterRiverSystem }) {
  const depth = depths(system.nodes);
  return (
    <>
      <ol class="chain" aria-label="Power chain">
        {system.nodes.map((n) => (
          <li
            key={n.node_id}
            class={`chain-node chain-${tone(n)}`}
            style={{ marginLeft: `${depth.get(n.node_id)! * 1.1}rem` }}
            aria-label={`${n.node_id} (${n.kind}) ${sourceLabel(n)}`}
            data-energized={String(n.energized)}
            data-source={n.source ?? ''}
          >
            <div class="node-head">
              <span>
                {n.node_id} <span class="muted small">{n.kind}</span>
              </span>
              <Badge tone={tone(n)}>{sourceLabel(n)}</Badge>
            </div>
            <div class="small">
              {n.feeds.length > 0 && <span class="muted">fed by {n.feeds.join(', ')} · </span>}
              {num(n.flow_kw, 'kW', 2)} of {num(n.rated_kw, 'kW', 0)}
              {n.overload && <strong> · overload {num(n.load_pct, '%', 0)}</strong>}
              {'minutes_left' in n && n.energized && n.source === 'ups' && (
                <span> · battery {num(n.minutes_left, 'min', 1)} left</span>
              )}
              {'running' in n && <span> · {n.running ? 'running' : 'stopped'}</span>}
            </div>
          </li>
        ))}
      </ol>
      <h3>Recent events</h3>
      {system.events.length === 0 ? (
        <p class="muted small">No propagation events yet.</p>
      ) : (
        <ol class="plain small" aria-label="Power events">
          {system.events.slice(0, 12).map((e) => (
            <li>
              {time(e.at)} · {e.node_id}: {e.type.replaceAll('_', ' ')}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
